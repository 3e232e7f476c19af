package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// quiet is a logger for tests that expect warnings.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// uniquePrefix is a key prefix no other test uses.
func uniquePrefix(t testing.TB) string {
	b := make([]byte, 8)
	rand.Read(b)
	return "imgmgr-test:" + hex.EncodeToString(b) + ":"
}

// open connects a Client to the real Redis (through url, which may point at
// a proxy) with the given prefix; the test's keys go when it ends.
func open(t testing.TB, rawURL, prefix string, tweak ...func(*Config)) *Client {
	t.Helper()
	cfg := Config{URL: rawURL, Prefix: prefix}
	for _, f := range tweak {
		f(&cfg)
	}
	c, err := Open(context.Background(), cfg, Deps{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		if keys, _ := c.rdb.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
			c.rdb.Del(ctx, keys...)
		}
		c.Close()
	})
	return c
}

// openReal connects straight to the test Redis with a fresh prefix.
func openReal(t testing.TB) *Client {
	t.Helper()
	return open(t, testenv.RedisURL(t), uniquePrefix(t))
}

// proxy is a TCP proxy in front of the real Redis that a test can cut (all
// connections closed, new ones refused) and restore: a real network fault
// for the clients behind it, while other clients still reach Redis.
type proxy struct {
	t      testing.TB
	addr   string // listen address, fixed across cuts
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]struct{}
}

func newProxy(t testing.TB) *proxy {
	t.Helper()
	u, err := url.Parse(testenv.RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{t: t, addr: ln.Addr().String(), target: u.Host, conns: map[net.Conn]struct{}{}}
	p.serve(ln)
	t.Cleanup(p.cut)
	return p
}

// URL is the redis:// URL of the proxy.
func (p *proxy) URL() string { return "redis://" + p.addr + "/0" }

func (p *proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.pipe(c)
		}
	}()
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	go func() { io.Copy(up, c); up.Close() }()
	io.Copy(c, up)
	c.Close()
}

// track records a live pair, or closes it when the proxy was cut meanwhile.
func (p *proxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

// cut closes every connection and stops listening: dials are refused.
func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

// restore listens again on the same address.
func (p *proxy) restore() {
	p.t.Helper()
	var ln net.Listener
	var err error
	for range 50 { // the port may linger briefly after the close
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy: listening again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}
