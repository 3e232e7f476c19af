// Package clamd is a client for ClamAV's daemon: INSTREAM scans, PING and
// VERSION over TCP or a Unix socket.
//
// Each command uses a connection of its own, closed after the reply. That is
// clamd's one-shot mode: clamd closes a plain connection after answering, so
// idle connections can only be kept with IDSESSION, which this client does
// not use. A stale pooled session would be found out only after the upload's
// bytes were sent (too late to retry a stream that cannot be rewound), clamd
// drops a session on any error reply and after its own idle timeout, and a
// connection costs about a tenth of a millisecond on loopback against
// about a millisecond for even a small scan (BenchmarkPing, BenchmarkScan). The "pool" is
// therefore a bound: at most MaxParallel scans hold a connection at once.
package clamd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/scan"
)

// Config locates clamd and bounds the work. Zero fields take the defaults.
type Config struct {
	// Address is tcp://host:port or unix:///path/to/clamd.ctl.
	Address string
	// Timeout bounds one scan, from waiting for a slot to reading the
	// verdict; default 60s. Ping and Version use min(Timeout, 10s).
	Timeout time.Duration
	// DialTimeout bounds connecting; default 5s.
	DialTimeout time.Duration
	// MaxParallel is how many scans may hold a connection at once; default 4.
	// Keep it at or below clamd's MaxThreads.
	MaxParallel int
	// ChunkSize is the INSTREAM chunk size in bytes; default 64 KiB.
	ChunkSize int
	// RetryAfter is suggested to clients when clamd is down or busy; default 30s.
	RetryAfter time.Duration
}

func (c *Config) setDefaults() {
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.MaxParallel == 0 {
		c.MaxParallel = 4
	}
	if c.ChunkSize == 0 {
		c.ChunkSize = 64 << 10
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = 30 * time.Second
	}
}

// Validate checks the config after defaults are applied.
func (c Config) Validate() error {
	c.setDefaults()
	if _, _, err := splitAddress(c.Address); err != nil {
		return err
	}
	switch {
	case c.Timeout < 0 || c.DialTimeout < 0 || c.RetryAfter < 0:
		return errors.New("scan: timeouts must be positive")
	case c.MaxParallel < 0:
		return errors.New("scan.max_parallel must be positive")
	case c.ChunkSize < 0 || c.ChunkSize > 1<<24:
		return errors.New("scan: chunk size must be between 1 byte and 16 MiB")
	}
	return nil
}

// splitAddress turns tcp://host:port or unix:///path into a network and an
// address for net.Dial.
func splitAddress(a string) (network, addr string, err error) {
	switch {
	case strings.HasPrefix(a, "tcp://"):
		addr = strings.TrimPrefix(a, "tcp://")
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return "", "", fmt.Errorf("scan.clamd_address %q: %w", a, err)
		}
		return "tcp", addr, nil
	case strings.HasPrefix(a, "unix://") && len(a) > len("unix://"):
		return "unix", strings.TrimPrefix(a, "unix://"), nil
	}
	return "", "", fmt.Errorf("scan.clamd_address %q: must be tcp://host:port or unix:///path", a)
}

// Client talks to one clamd. Safe for concurrent use.
type Client struct {
	cfg     Config
	network string
	addr    string
	slots   chan struct{}
	dialer  net.Dialer
}

var _ scan.Scanner = (*Client)(nil)

// New validates cfg and returns a client. It does not connect: call Ping
// to check that clamd answers.
func New(cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	network, addr, _ := splitAddress(cfg.Address)
	return &Client{
		cfg: cfg, network: network, addr: addr,
		slots:  make(chan struct{}, cfg.MaxParallel),
		dialer: net.Dialer{Timeout: cfg.DialTimeout},
	}, nil
}

// Scan streams r to clamd with INSTREAM and returns its verdict.
func (c *Client) Scan(ctx context.Context, r io.Reader) (scan.Result, error) {
	const op = "clamd.Scan"
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return scan.Result{}, c.unavailable(op, "scanner_busy", "the malware scanner is busy; try again later", ctx.Err())
	}
	conn, err := c.dial(ctx)
	if err != nil {
		return scan.Result{}, c.unavailable(op, "scanner_unavailable", "the malware scanner is unavailable; try again later", err)
	}
	defer conn.Close()
	reply, err := c.instream(conn, r)
	if err != nil {
		return scan.Result{}, c.transportError(ctx, op, err)
	}
	res, err := parseReply(reply)
	if err != nil {
		return scan.Result{}, c.wrapReplyError(op, err)
	}
	return res, nil
}

// instream sends the stream in chunks and reads the verdict. When clamd
// stops reading early (its size limit), the write fails; the reply it sent
// before closing is still read and returned.
func (c *Client) instream(conn net.Conn, r io.Reader) (string, error) {
	if _, err := io.WriteString(conn, "zINSTREAM\x00"); err != nil {
		return "", err
	}
	if err := c.sendChunks(conn, r); err != nil {
		var src *sourceError
		if errors.As(err, &src) {
			return "", err
		}
		if reply, rerr := readReply(conn); rerr == nil && reply != "" {
			return reply, nil
		}
		return "", err
	}
	return readReply(conn)
}

// sourceError marks a failure to read the stream being scanned, as opposed
// to a failure to talk to clamd.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return "reading the stream to scan: " + e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// sendChunks writes r as length-prefixed chunks and the zero-length end mark.
func (c *Client) sendChunks(conn net.Conn, r io.Reader) error {
	buf := make([]byte, 4+c.cfg.ChunkSize)
	for {
		n, rerr := io.ReadFull(r, buf[4:])
		if n > 0 {
			putUint32(buf, uint32(n))
			if _, err := conn.Write(buf[:4+n]); err != nil {
				return err
			}
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			break
		}
		if rerr != nil {
			return &sourceError{rerr}
		}
	}
	putUint32(buf, 0)
	_, err := conn.Write(buf[:4])
	return err
}

func putUint32(b []byte, v uint32) {
	b[0], b[1], b[2], b[3] = byte(v>>24), byte(v>>16), byte(v>>8), byte(v)
}

// maxReply bounds what is read of a reply; clamd's are one short line.
const maxReply = 4096

// readReply reads one NUL-terminated reply (or up to EOF).
func readReply(conn net.Conn) (string, error) {
	var b []byte
	buf := make([]byte, 512)
	for len(b) < maxReply {
		n, err := conn.Read(buf)
		b = append(b, buf[:n]...)
		if i := strings.IndexByte(string(b), 0); i >= 0 {
			return string(b[:i]), nil
		}
		if err == io.EOF && len(b) > 0 {
			return string(b), nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", errors.New("clamd reply too long")
}

// Ping sends PING and expects PONG.
func (c *Client) Ping(ctx context.Context) error {
	reply, err := c.command(ctx, "PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return c.unavailable("clamd.Ping", "scanner_unavailable", "the malware scanner is unavailable", fmt.Errorf("unexpected reply %q", clip(reply)))
	}
	return nil
}

// Version returns clamd's VERSION line, e.g. "ClamAV 1.4.6/27600/...".
func (c *Client) Version(ctx context.Context) (string, error) {
	return c.command(ctx, "VERSION")
}

// command sends a one-line command and returns the reply.
func (c *Client) command(ctx context.Context, cmd string) (string, error) {
	op := "clamd." + cmd
	ctx, cancel := context.WithTimeout(ctx, min(c.cfg.Timeout, 10*time.Second))
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		return "", c.unavailable(op, "scanner_unavailable", "the malware scanner is unavailable", err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "z"+cmd+"\x00"); err != nil {
		return "", c.transportError(ctx, op, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return "", c.transportError(ctx, op, err)
	}
	return strings.TrimSpace(reply), nil
}

// dial connects and ties the connection's deadline to ctx: a deadline or a
// cancellation interrupts any read or write in progress.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	conn, err := c.dialer.DialContext(ctx, c.network, c.addr)
	if err != nil {
		return nil, err
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	return &stoppingConn{Conn: conn, stop: stop}, nil
}

// stoppingConn releases the context hook when closed.
type stoppingConn struct {
	net.Conn
	stop func() bool
}

func (c *stoppingConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// transportError classifies a failed exchange: a failed source read keeps
// its own error, anything else means clamd did not give a verdict.
func (c *Client) transportError(ctx context.Context, op string, err error) error {
	var src *sourceError
	if errors.As(err, &src) {
		var e *imgmgr.Error
		if errors.As(src.err, &e) {
			return imgmgr.Wrap(op, src.err)
		}
		return imgmgr.Internal(op, err)
	}
	if ctx.Err() != nil {
		err = fmt.Errorf("%w (%w)", err, ctx.Err())
	}
	return c.unavailable(op, "scanner_unavailable", "the malware scanner did not answer; try again later", err)
}

func (c *Client) wrapReplyError(op string, err error) error {
	var e *imgmgr.Error
	if errors.As(err, &e) && e.Kind == imgmgr.KindUnavailable {
		e.RetryAfter = c.cfg.RetryAfter
	}
	return imgmgr.Wrap(op, err)
}

func (c *Client) unavailable(op, code, msg string, err error) error {
	return &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: code, Op: op, Message: msg, RetryAfter: c.cfg.RetryAfter, Err: err}
}
