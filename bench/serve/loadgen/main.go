// Command loadgen drives the serving runtime with pre-built requests and reports throughput and
// latency percentiles as one JSON object on stdout.
//
// The request is given whole (bench/serve/run.py builds it: JSON, binary or gRPC), so the load
// generator spends its CPU on the network, not on encoding: on a 2-core machine it runs with
// GOMAXPROCS=1 and leaves the other core to the server.
//
//	loadgen -addr 127.0.0.1:8100 -request req.http [-c 32] [-d 10s] [-rate 0]
//	loadgen -addr 127.0.0.1:8101 -grpc-method /inference.GRPCInferenceService/ModelInfer -request req.pb [-grpc-conns 0]
//
// With -rate 0 every connection sends back to back (closed loop: the most the server can do).
// With -rate R the requests are scheduled R per second across the connections (open loop) and a
// request's latency counts from its scheduled time, so a stalled server is not hidden by clients
// that wait for it (coordinated omission).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"
)

// sender sends one request on its connection and waits for the answer; ok is false for a non-200
// answer (HTTP status or gRPC status other than OK).
type sender interface {
	send() (ok bool, err error)
	close()
}

type result struct {
	Requests       int            `json:"requests"`
	Errors         int            `json:"errors"`
	Failures       map[string]int `json:"failures,omitempty"`
	Seconds        float64        `json:"seconds"`
	ThroughputPerS float64        `json:"throughputPerSec"`
	P50Ms          float64        `json:"p50Ms"`
	P90Ms          float64        `json:"p90Ms"`
	P99Ms          float64        `json:"p99Ms"`
	P999Ms         float64        `json:"p999Ms"`
	MaxMs          float64        `json:"maxMs"`
	Connections    int            `json:"connections"`
	RatePerS       float64        `json:"targetRatePerSec,omitempty"`
	Protocol       string         `json:"protocol"`
	RequestBytes   int            `json:"requestBytes"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8100", "host:port of the server")
	requestFile := flag.String("request", "", "file holding the request: a whole HTTP/1.1 request (headers and body), or a serialized protobuf message with -grpc-method")
	grpcMethod := flag.String("grpc-method", "", "send the request as this unary gRPC method (e.g. /inference.GRPCInferenceService/ModelInfer)")
	grpcConns := flag.Int("grpc-conns", 0, "HTTP/2 connections the gRPC senders share, round robin (0: one per sender, as each HTTP sender has its own)")
	conns := flag.Int("c", 32, "connections (each one request in flight)")
	duration := flag.Duration("d", 10*time.Second, "how long to send")
	warmup := flag.Duration("warmup", time.Second, "sending before measuring starts")
	rate := flag.Float64("rate", 0, "requests per second in total (0: closed loop, as fast as answers come)")
	flag.Parse()
	if *requestFile == "" {
		fail("-request: a request file is required")
	}
	payload, err := os.ReadFile(*requestFile)
	if err != nil {
		fail(fmt.Sprintf("-request: %v", err))
	}
	if *conns < 1 {
		fail("-c: at least 1 connection")
	}
	newSender := func() (sender, error) { return dialHTTP(*addr, payload) }
	protocol := "http"
	if *grpcMethod != "" {
		protocol = "grpc"
		if *grpcConns < 0 {
			fail("-grpc-conns: 0 (one per sender) or more")
		}
		var clients []*grpcClient
		made := 0
		newSender = func() (sender, error) {
			if *grpcConns == 0 || len(clients) < *grpcConns {
				c, err := dialGRPC(*addr)
				if err != nil {
					return nil, err
				}
				clients = append(clients, c)
			}
			made++
			return clients[(made-1)%len(clients)].stream(*grpcMethod, payload), nil
		}
	}
	senders := make([]sender, *conns)
	for i := range senders {
		s, err := newSender()
		if err != nil {
			fail(fmt.Sprintf("-addr: %v", err))
		}
		senders[i] = s
	}
	res := run(senders, *duration, *warmup, *rate)
	res.Protocol, res.RequestBytes, res.Connections, res.RatePerS = protocol, len(payload), *conns, *rate
	for _, s := range senders {
		s.close()
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Println(string(out))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "loadgen: "+msg)
	os.Exit(2)
}

// run drives every sender for warmup+duration and measures the requests that started after warmup.
func run(senders []sender, duration, warmup time.Duration, rate float64) result {
	start := time.Now()
	measureFrom := start.Add(warmup)
	end := measureFrom.Add(duration)
	var schedule chan time.Time
	if rate > 0 {
		schedule = make(chan time.Time, 1<<16)
		go func() {
			interval := time.Duration(float64(time.Second) / rate)
			next := start
			for next.Before(end) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				// Every request due by now is scheduled at its own time, however late the sleep woke.
				for now := time.Now(); !next.After(now) && next.Before(end); next = next.Add(interval) {
					schedule <- next
				}
			}
			close(schedule)
		}()
	}
	type tally struct {
		lat      []time.Duration
		errors   int
		failures map[string]int
	}
	tallies := make([]tally, len(senders))
	var wg sync.WaitGroup
	for i, s := range senders {
		wg.Add(1)
		go func(t *tally, s sender) {
			defer wg.Done()
			t.failures = map[string]int{}
			for {
				var due time.Time
				if schedule != nil {
					d, open := <-schedule
					if !open {
						return
					}
					due = d
				} else {
					due = time.Now()
					if !due.Before(end) {
						return
					}
				}
				ok, err := s.send()
				if due.Before(measureFrom) {
					continue
				}
				if err != nil {
					t.errors++
					t.failures[err.Error()]++
					if r, can := s.(interface{ reconnect() error }); can && r.reconnect() != nil {
						return
					}
					continue
				}
				if !ok {
					t.errors++
					t.failures["non-OK answer"]++
					continue
				}
				t.lat = append(t.lat, time.Since(due))
			}
		}(&tallies[i], s)
	}
	wg.Wait()
	elapsed := time.Since(measureFrom)
	if elapsed > duration && rate > 0 {
		elapsed = duration // open loop: the offered window, not the drain after it
	}
	var all []time.Duration
	res := result{Failures: map[string]int{}}
	for _, t := range tallies {
		all = append(all, t.lat...)
		res.Errors += t.errors
		for k, v := range t.failures {
			res.Failures[k] += v
		}
	}
	sort.Slice(all, func(a, b int) bool { return all[a] < all[b] })
	res.Requests = len(all)
	res.Seconds = elapsed.Seconds()
	res.ThroughputPerS = float64(len(all)) / elapsed.Seconds()
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)-1))
		return float64(all[i].Microseconds()) / 1000
	}
	res.P50Ms, res.P90Ms, res.P99Ms, res.P999Ms, res.MaxMs = pct(0.5), pct(0.9), pct(0.99), pct(0.999), pct(1)
	return res
}
