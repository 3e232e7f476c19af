package main

import (
	"net"
	"net/http"
	"sync"
	"time"
)

// connLimiter caps the open connections of a listener at max, and when the
// cap is reached sheds idle keep-alive connections first: a connection
// waiting between requests gives its slot to a new one, so a client with
// a request to make is not stuck behind thousands of idle sockets until
// their IdleTimeout (issue 10, item 13: with 2,000 idle sockets open a real
// request waited 9 s for a slot). Connections with a request in flight are
// never shed; when every slot is busy, Accept waits for one to close, and
// the one connection it has accepted waits with it (so at most max+1 are
// open). An idle connection is shed by closing it, exactly as IdleTimeout
// would; HTTP clients retry an idempotent request on a reused connection
// that closes before answering.
//
// The server must report connection states to track (http.Server.ConnState).
type connLimiter struct {
	net.Listener
	slots chan struct{} // one token per open connection
	freed chan struct{} // a slot was released or a connection went idle; buffered 1
	done  chan struct{} // closed by Close
	once  sync.Once

	mu   sync.Mutex
	idle map[net.Conn]time.Time // connections between requests, since when
}

func newConnLimiter(ln net.Listener, max int) *connLimiter {
	return &connLimiter{Listener: ln, slots: make(chan struct{}, max), freed: make(chan struct{}, 1),
		done: make(chan struct{}), idle: map[net.Conn]time.Time{}}
}

// Close closes the listener and ends an Accept waiting for a slot.
func (l *connLimiter) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// Accept returns the next connection once it has a slot, shedding the
// longest-idle connection when there is none.
func (l *connLimiter) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	for {
		select {
		case l.slots <- struct{}{}:
			return &limitedConn{Conn: c, l: l}, nil
		default:
		}
		if l.shedIdle() {
			continue
		}
		select { // wait for a close or a connection going idle, then retry
		case <-l.freed:
		case <-l.done:
			c.Close()
			return nil, net.ErrClosed
		}
	}
}

// shedIdle closes the longest-idle connection; false when none is idle.
func (l *connLimiter) shedIdle() bool {
	l.mu.Lock()
	var oldest net.Conn
	var since time.Time
	for c, t := range l.idle {
		if oldest == nil || t.Before(since) {
			oldest, since = c, t
		}
	}
	delete(l.idle, oldest)
	l.mu.Unlock()
	if oldest == nil {
		return false
	}
	oldest.Close() // releases its slot
	return true
}

// track is the http.Server.ConnState hook: it keeps the set of idle
// connections.
func (l *connLimiter) track(c net.Conn, s http.ConnState) {
	l.mu.Lock()
	if s == http.StateIdle {
		l.idle[c] = time.Now()
	} else {
		delete(l.idle, c)
	}
	l.mu.Unlock()
	if s == http.StateIdle {
		l.signal()
	}
}

func (l *connLimiter) signal() {
	select {
	case l.freed <- struct{}{}:
	default:
	}
}

// limitedConn gives its slot back on the first Close.
type limitedConn struct {
	net.Conn
	l    *connLimiter
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.idle, c)
		c.l.mu.Unlock()
		<-c.l.slots
		c.l.signal()
	})
	return err
}
