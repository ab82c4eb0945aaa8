package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"
)

// httpConn is one keep-alive HTTP/1.1 connection sending the same raw request again and again.
// Answers are read with a minimal parser: status line, headers up to the blank line, and a body
// of Content-Length bytes (the runtime always sends one).
type httpConn struct {
	addr    string
	request []byte
	conn    net.Conn
	r       *bufio.Reader
}

func dialHTTP(addr string, request []byte) (*httpConn, error) {
	c := &httpConn{addr: addr, request: request}
	return c, c.reconnect()
}

func (c *httpConn) reconnect() error {
	if c.conn != nil {
		c.conn.Close()
	}
	conn, err := net.DialTimeout("tcp", c.addr, 5*time.Second)
	if err != nil {
		return err
	}
	c.conn, c.r = conn, bufio.NewReaderSize(conn, 64<<10)
	return nil
}

var errClosed = errors.New("server closed the connection")

func (c *httpConn) send() (bool, error) {
	c.conn.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.conn.Write(c.request); err != nil {
		return false, err
	}
	status, err := c.r.ReadSlice('\n')
	if err != nil {
		if err == io.EOF {
			return false, errClosed
		}
		return false, err
	}
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) {
		return false, fmt.Errorf("bad status line %q", status)
	}
	ok := bytes.Equal(status[9:12], []byte("200"))
	length, closing := -1, false
	for {
		line, err := c.r.ReadSlice('\n')
		if err != nil {
			return false, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, found := bytes.Cut(line, []byte(":"))
		if !found {
			continue
		}
		value = bytes.TrimSpace(value)
		switch string(bytes.ToLower(name)) {
		case "content-length":
			length, err = strconv.Atoi(string(value))
			if err != nil {
				return false, fmt.Errorf("bad content-length %q", value)
			}
		case "connection":
			closing = bytes.EqualFold(value, []byte("close"))
		}
	}
	if length < 0 {
		return false, errors.New("answer without Content-Length")
	}
	if _, err := c.r.Discard(length); err != nil {
		return false, err
	}
	if closing {
		if err := c.reconnect(); err != nil {
			return ok, err
		}
	}
	return ok, nil
}

func (c *httpConn) close() { c.conn.Close() }
