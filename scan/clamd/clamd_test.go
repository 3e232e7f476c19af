package clamd

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
	"github.com/imgmgr/imgmgr/scan"
)

// eicarHex is the EICAR anti-virus test string, hex-encoded so that this
// source file is not itself flagged by scanners.
const eicarHex = "58354f2150254041505b345c505a58353428505e2937434329377d2445494341522d5354414e444152442d414e544956495255532d544553542d46494c452124482b482a"

func eicar(t testing.TB) []byte {
	t.Helper()
	b, err := hex.DecodeString(eicarHex)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jpegWithComment inserts a COM segment holding comment right after SOI.
func jpegWithComment(t testing.TB, jpeg, comment []byte) []byte {
	t.Helper()
	if len(jpeg) < 2 || jpeg[0] != 0xFF || jpeg[1] != 0xD8 || len(comment) > 65533 {
		t.Fatal("jpegWithComment: not a JPEG or comment too long")
	}
	n := len(comment) + 2
	seg := append([]byte{0xFF, 0xFE, byte(n >> 8), byte(n)}, comment...)
	out := append([]byte{0xFF, 0xD8}, seg...)
	return append(out, jpeg[2:]...)
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%+v): %v", cfg, err)
	}
	return c
}

func TestScanRealClamd(t *testing.T) {
	addr := testenv.ClamdAddress(t)
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	ei := eicar(t)
	cases := []struct {
		name     string
		data     []byte
		infected bool
	}{
		{"clean JPEG", photo, false},
		{"empty stream", nil, false},
		{"EICAR alone", ei, true},
		{"EICAR inside a JPEG comment", jpegWithComment(t, photo, ei), true},
		{"EICAR after a JPEG (polyglot tail)", append(append([]byte{}, photo...), ei...), true},
		{"EICAR across a chunk boundary", append(bytes.Repeat([]byte{'a'}, 64<<10-20), ei...), true},
	}
	for _, addr := range []string{addr, unixRelay(t, addr)} {
		c := newClient(t, Config{Address: addr})
		for _, tc := range cases {
			t.Run(addr[:4]+"/"+tc.name, func(t *testing.T) {
				res, err := c.Scan(context.Background(), bytes.NewReader(tc.data))
				if err != nil {
					t.Fatalf("Scan: %v", err)
				}
				if res.Infected != tc.infected {
					t.Fatalf("Infected = %v, want %v (result %+v)", res.Infected, tc.infected, res)
				}
				if tc.infected && !strings.Contains(strings.ToUpper(res.Signature), "EICAR") {
					t.Errorf("Signature = %q, want one naming EICAR", res.Signature)
				}
				if !tc.infected && res.Signature != "" {
					t.Errorf("clean stream has Signature %q", res.Signature)
				}
			})
		}
	}
}

// unixRelay serves a Unix socket that relays each connection to the real
// clamd at addr, so that the unix:// path is exercised against the real
// daemon even where clamd listens on TCP only.
func unixRelay(t testing.TB, addr string) string {
	t.Helper()
	if strings.HasPrefix(addr, "unix://") {
		return addr
	}
	path := filepath.Join(t.TempDir(), "clamd.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				out, err := net.Dial("tcp", strings.TrimPrefix(addr, "tcp://"))
				if err != nil {
					return
				}
				defer out.Close()
				go func() { io.Copy(out, in); out.(*net.TCPConn).CloseWrite() }()
				io.Copy(in, out)
			}()
		}
	}()
	return "unix://" + path
}

func TestPingVersion(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t)})
	if err := c.Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	v, err := c.Version(context.Background())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if !strings.HasPrefix(v, "ClamAV ") {
		t.Errorf("Version = %q, want ClamAV ...", v)
	}
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestScanSizeLimit streams more than clamd's StreamMaxLength (at most
// 1 GiB here; the test clamd uses far less) and wants KindTooLarge.
func TestScanSizeLimit(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t), ChunkSize: 1 << 20})
	_, err := c.Scan(context.Background(), io.LimitReader(zeros{}, 1<<30))
	if imgmgr.KindOf(err) != imgmgr.KindTooLarge || imgmgr.CodeOf(err) != "scan_size_limit" {
		t.Fatalf("Scan past the size limit: err = %v, want KindTooLarge scan_size_limit", err)
	}
}

func TestScanClamdDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedTCP := "tcp://" + ln.Addr().String()
	ln.Close()
	for _, addr := range []string{closedTCP, "unix://" + filepath.Join(t.TempDir(), "missing.sock")} {
		c := newClient(t, Config{Address: addr, DialTimeout: 2 * time.Second})
		_, err := c.Scan(context.Background(), strings.NewReader("hello"))
		wantUnavailable(t, "Scan "+addr, err)
		wantUnavailable(t, "Ping "+addr, c.Ping(context.Background()))
		_, err = c.Version(context.Background())
		wantUnavailable(t, "Version "+addr, err)
	}
}

// TestScanPeerHangsUp: something accepts and closes without answering
// (a clamd dying mid-scan).
func TestScanPeerHangsUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			conn.Read(make([]byte, 10))
			conn.Close()
		}
	}()
	c := newClient(t, Config{Address: "tcp://" + ln.Addr().String()})
	_, err = c.Scan(context.Background(), io.LimitReader(zeros{}, 8<<20))
	wantUnavailable(t, "Scan", err)
}

func wantUnavailable(t *testing.T, what string, err error) {
	t.Helper()
	var e *imgmgr.Error
	if !errors.As(err, &e) || e.Kind != imgmgr.KindUnavailable {
		t.Fatalf("%s: err = %v, want KindUnavailable", what, err)
	}
	if e.RetryAfter <= 0 {
		t.Errorf("%s: RetryAfter = %v, want > 0", what, e.RetryAfter)
	}
}

// blockingReader yields one chunk, then blocks until released.
type blockingReader struct {
	first   bool
	release chan struct{}
}

func (b *blockingReader) Read(p []byte) (int, error) {
	if !b.first {
		b.first = true
		return copy(p, "clean data"), nil
	}
	<-b.release
	return 0, io.EOF
}

func TestScanBusy(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t), MaxParallel: 1, ChunkSize: 4})
	br := &blockingReader{release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := c.Scan(context.Background(), br)
		done <- err
	}()
	// Wait until the first scan holds the only slot.
	for len(c.slots) == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.Scan(ctx, strings.NewReader("x"))
	if imgmgr.CodeOf(err) != "scanner_busy" {
		t.Errorf("second scan while the slot is held: err = %v, want scanner_busy", err)
	}
	close(br.release)
	if err := <-done; err != nil {
		t.Fatalf("first scan: %v", err)
	}
	if _, err := c.Scan(context.Background(), strings.NewReader("x")); err != nil {
		t.Fatalf("scan after the slot was freed: %v", err)
	}
}

// TestScanCancelled: cancelling the context interrupts a scan whose source
// has stalled; the scan returns instead of hanging.
func TestScanCancelled(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t), ChunkSize: 4})
	ctx, cancel := context.WithCancel(context.Background())
	br := &blockingReader{release: make(chan struct{})}
	defer close(br.release)
	r := readerFunc(func(p []byte) (int, error) {
		if br.first {
			cancel()
		}
		return br.Read(p)
	})
	done := make(chan error, 1)
	go func() {
		_, err := c.Scan(ctx, r)
		done <- err
	}()
	<-ctx.Done()
	br.release <- struct{}{}
	err := <-done
	if err == nil {
		t.Fatal("cancelled scan returned no error")
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want it to wrap context.Canceled", err)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestScanSourceError(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t)})
	tooBig := imgmgr.Errorf(imgmgr.KindTooLarge, "file_too_large", "too big")
	cases := []struct {
		name     string
		err      error
		wantKind imgmgr.Kind
	}{
		{"plain error is internal", errors.New("disk on fire"), imgmgr.KindInternal},
		{"domain error keeps its kind", tooBig, imgmgr.KindTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := io.MultiReader(strings.NewReader("some bytes"), readerFunc(func([]byte) (int, error) { return 0, tc.err }))
			_, err := c.Scan(context.Background(), r)
			if imgmgr.KindOf(err) != tc.wantKind || imgmgr.CodeOf(err) != imgmgr.CodeOf(tc.err) {
				t.Fatalf("err = %v (kind %v), want kind %v and the code of %v", err, imgmgr.KindOf(err), tc.wantKind, tc.err)
			}
		})
	}
}

func TestCheckAndFunc(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t)})
	err := scan.Check(context.Background(), c, bytes.NewReader(eicar(t)))
	if imgmgr.KindOf(err) != imgmgr.KindUnprocessable || imgmgr.CodeOf(err) != "malware_detected" {
		t.Fatalf("Check(EICAR) = %v, want 422 malware_detected", err)
	}
	if err := scan.Check(context.Background(), c, strings.NewReader("clean")); err != nil {
		t.Fatalf("Check(clean) = %v", err)
	}
	sig, err := scan.Func(c)(context.Background(), bytes.NewReader(eicar(t)))
	if err != nil || !strings.Contains(strings.ToUpper(sig), "EICAR") {
		t.Fatalf("Func(EICAR) = %q, %v", sig, err)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		cfg Config
		ok  bool
	}{
		{Config{Address: "tcp://127.0.0.1:3310"}, true},
		{Config{Address: "unix:///run/clamav/clamd.ctl"}, true},
		{Config{Address: ""}, false},
		{Config{Address: "127.0.0.1:3310"}, false},
		{Config{Address: "tcp://localhost"}, false},
		{Config{Address: "unix://"}, false},
		{Config{Address: "tcp://127.0.0.1:3310", MaxParallel: -1}, false},
		{Config{Address: "tcp://127.0.0.1:3310", Timeout: -time.Second}, false},
		{Config{Address: "tcp://127.0.0.1:3310", ChunkSize: 1 << 25}, false},
	}
	for _, tc := range cases {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("Validate(%+v) = %v, want ok=%v", tc.cfg, err, tc.ok)
		}
	}
}

func BenchmarkScan(b *testing.B) {
	c := newClient(b, Config{Address: testenv.ClamdAddress(b)})
	data := bytes.Repeat([]byte("clean image bytes "), 256) // ~4.5 KiB
	for b.Loop() {
		if _, err := c.Scan(context.Background(), bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPing is a whole connection's cost: dial, PING, PONG, close.
// (Dialing and closing without a command is no measure: clamd then falls
// behind accepting, and the kernel's SYN retries dominate.)
func BenchmarkPing(b *testing.B) {
	c := newClient(b, Config{Address: testenv.ClamdAddress(b)})
	for b.Loop() {
		if err := c.Ping(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}

// TestScanHostileCorpus streams every file of testdata/hostile through the
// real clamd: the EICAR files are found, everything else (bombs included,
// which ingest never lets this far) passes without clamd failing.
func TestScanHostileCorpus(t *testing.T) {
	c := newClient(t, Config{Address: testenv.ClamdAddress(t)})
	dir := filepath.Join(testenv.RepoRoot(), "testdata", "hostile")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" || e.Name() == "manifest.tsv" {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			f, err := os.Open(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			res, err := c.Scan(context.Background(), f)
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if want := strings.HasPrefix(e.Name(), "eicar"); res.Infected != want {
				t.Errorf("Infected = %v (%s), want %v", res.Infected, res.Signature, want)
			}
		})
	}
	if n < 20 {
		t.Fatalf("only %d corpus files found in %s", n, dir)
	}
}
