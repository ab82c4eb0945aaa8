package main

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
)

// rawCodec sends and receives protobuf messages already serialized: the request is built once by
// bench/serve/run.py and the answer is only counted, never decoded.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error)      { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v any) error { *(v.(*[]byte)) = data; return nil }
func (rawCodec) Name() string                       { return "raw" }

func init() { encoding.RegisterCodec(rawCodec{}) }

// grpcClient is one HTTP/2 connection; each sender is one unary call in flight on it.
type grpcClient struct{ conn *grpc.ClientConn }

func dialGRPC(addr string) (*grpcClient, error) {
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{}), grpc.MaxCallRecvMsgSize(256<<20)))
	if err != nil {
		return nil, err
	}
	return &grpcClient{conn: conn}, nil
}

type grpcCall struct {
	client  *grpcClient
	method  string
	request []byte
}

func (g *grpcClient) stream(method string, request []byte) *grpcCall {
	return &grpcCall{client: g, method: method, request: request}
}

func (c *grpcCall) send() (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var reply []byte
	if err := c.client.conn.Invoke(ctx, c.method, &c.request, &reply); err != nil {
		return false, err
	}
	return true, nil
}

func (c *grpcCall) close() {}
