package testenv

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a real service (Redis, PostgreSQL, ...)
// that a test can cut (all connections closed, new ones refused), stall
// (connections stay open but nothing comes back: a black hole) and
// restore: a real network fault for the clients behind it, while other
// clients still reach the service.
type Proxy struct {
	t       testing.TB
	addr    string // listen address, fixed across cuts
	target  string
	mu      sync.Mutex
	ln      net.Listener
	stalled bool
	conns   map[net.Conn]bool // client side: true; Redis side: false
}

// RedisProxy starts a Proxy in front of the real Redis (RedisURL); it is
// cut when the test ends.
func RedisProxy(t testing.TB) *Proxy {
	t.Helper()
	u, err := url.Parse(RedisURL(t))
	if err != nil {
		t.Fatal(err)
	}
	return NewProxy(t, u.Host)
}

// NewProxy starts a Proxy in front of target (host:port); it is cut when
// the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{t: t, addr: ln.Addr().String(), target: target, conns: map[net.Conn]bool{}}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// URL is the redis:// URL of the proxy (of a RedisProxy).
func (p *Proxy) URL() string { return "redis://" + p.addr + "/0" }

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) serve(ln net.Listener) {
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

func (p *Proxy) pipe(c net.Conn) {
	if !p.track(c, true) || p.isStalled() {
		return // held open, unanswered, until Cut or Restore
	}
	up, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		p.drop(c)
		return
	}
	if !p.track(up, false) {
		p.drop(c)
		return
	}
	go func() { io.Copy(up, c); p.drop(up) }()
	io.Copy(c, up)
	if !p.isStalled() {
		p.drop(c)
	}
}

func (p *Proxy) isStalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled
}

// track records a live connection, or closes it when the proxy is cut.
func (p *Proxy) track(c net.Conn, client bool) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = client
	return true
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// closeAll closes the tracked connections of one side, or of both.
func (p *Proxy) closeAll(keep func(client bool) bool) {
	for c, client := range p.conns {
		if !keep(client) {
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetLinger(0) // RST, as a crashed server's host would send
			}
			c.Close()
			delete(p.conns, c)
		}
	}
}

// Cut closes every connection and stops listening: dials are refused.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.closeAll(func(bool) bool { return false })
}

// Stall keeps every connection open but answers nothing any more, and
// accepts new ones that it never answers: what a host that vanished
// without a reset looks like.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stalled = true
	p.closeAll(func(client bool) bool { return client })
}

// Restore forwards again (listening again on the same address after a
// Cut); connections held by a Stall are closed, as a partition's would be.
func (p *Proxy) Restore() {
	p.t.Helper()
	p.mu.Lock()
	p.stalled = false
	p.closeAll(func(bool) bool { return false })
	listening := p.ln != nil
	p.mu.Unlock()
	if listening {
		return
	}
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
