// Command upload benchmarks a tus 1.0 server over loopback: it uploads one
// file of size S in PATCHes of size C and prints the throughput and, when
// the server's pid is given, its resident memory before and at peak (from
// /proc). It works against any tus server URL; for imgmgr it can log in and
// sends a valid JPEG (a real photo padded with comment segments, generated
// on the fly) so that ingest accepts the upload at the end.
//
//	go run ./bench/upload -url http://127.0.0.1:8080/api/v1/uploads/ -user admin -password ... \
//	    -pid $(pidof imgmgr) -size 1073741824 -chunk 67108864
//	go run ./bench/upload -url http://127.0.0.1:1080/files/ -size 1073741824 -jpeg=false   # tusd
package main

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"flag"
	"fmt"
	"github.com/imgmgr/imgmgr/bench/internal/procstat"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"text/tabwriter"
	"time"
)

func main() {
	endpoint := flag.String("url", "http://127.0.0.1:8080/api/v1/uploads/", "tus creation endpoint")
	user := flag.String("user", "", "imgmgr username (logs in at <origin>/api/v1/auth/login); empty: no auth")
	password := flag.String("password", os.Getenv("IMGMGR_ADMIN_PASSWORD"), "imgmgr password")
	token := flag.String("token", "", "bearer token or API key instead of -user")
	size := flag.Int64("size", 1<<30, "bytes to upload")
	chunk := flag.Int64("chunk", 64<<20, "bytes per PATCH; 0 = the whole file in one PATCH")
	jpeg := flag.String("jpeg", "testdata/images/photo/2569067123_aca715a2ee_o.jpg", "real JPEG to pad to -size; empty: random bytes")
	checksum := flag.Bool("checksum", false, "send Upload-Checksum (sha1) with each PATCH")
	pid := flag.Int("pid", 0, "server pid, to report its RSS")
	flag.Parse()

	if *user != "" {
		u, err := url.Parse(*endpoint)
		check(err)
		*token, err = procstat.Login(u.Scheme+"://"+u.Host, *user, *password)
		check(err)
	}
	if *chunk <= 0 || *chunk > *size {
		*chunk = *size
	}
	src, err := newSource(*jpeg, *size)
	check(err)
	rss0 := procstat.RSS(*pid)
	stopWatch := procstat.WatchRSS(*pid, 20*time.Millisecond)

	c := &client{token: *token, http: &http.Client{}}
	start := time.Now()
	loc := c.create(*endpoint, *size)
	var offset int64
	var last *http.Response
	var lastStart time.Time
	for offset < *size {
		n := min(*chunk, *size-offset)
		lastStart = time.Now()
		last = c.patch(loc, offset, io.LimitReader(src, n), n, *checksum)
		offset += n
		if last.StatusCode != http.StatusNoContent && offset < *size {
			os.Exit(1)
		}
	}
	total := time.Since(start)
	peakRSS := stopWatch()

	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	mb := float64(*size) / 1e6
	fmt.Fprintf(w, "size\t%d bytes (%.0f MiB) in PATCHes of %d bytes, checksum %v\n", *size, float64(*size)/(1<<20), *chunk, *checksum)
	fmt.Fprintf(w, "total\t%.2fs\t%.0f MB/s\tcreation to the last answer, completion included\n", total.Seconds(), mb/total.Seconds())
	if sent := *size - min(*chunk, *size); sent > 0 {
		d := lastStart.Sub(start)
		fmt.Fprintf(w, "transfer\t%.2fs\t%.0f MB/s\tevery PATCH but the completing one (bytes durable, offsets acknowledged)\n", d.Seconds(), float64(sent)/1e6/d.Seconds())
	}
	fmt.Fprintf(w, "last PATCH\t%.2fs\t\tits bytes plus the server's completion (ingest)\n", start.Add(total).Sub(lastStart).Seconds())
	fmt.Fprintf(w, "final status\t%d\t\t%s\n", last.StatusCode, last.Header.Get("Upload-Image-Id"))
	if *pid > 0 {
		fmt.Fprintf(w, "server RSS\t%.1f MiB before\t%.1f MiB peak\tgrowth %.1f MiB\n", mib(rss0), mib(peakRSS), mib(peakRSS-rss0))
	}
	w.Flush()
}

type client struct {
	token string
	http  *http.Client
}

func (c *client) do(req *http.Request) *http.Response {
	req.Header.Set("Tus-Resumable", "1.0.0")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	check(err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		fmt.Fprintf(os.Stderr, "%s %s: %d %s\n", req.Method, req.URL, resp.StatusCode, bytes.TrimSpace(body))
	}
	return resp
}

func (c *client) create(endpoint string, size int64) string {
	req, err := http.NewRequest(http.MethodPost, endpoint, nil)
	check(err)
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte("bench.jpg")))
	resp := c.do(req)
	if resp.StatusCode != http.StatusCreated {
		os.Exit(1)
	}
	loc, err := url.Parse(endpoint)
	check(err)
	ref, err := url.Parse(resp.Header.Get("Location"))
	check(err)
	return loc.ResolveReference(ref).String()
}

func (c *client) patch(loc string, offset int64, body io.Reader, n int64, checksum bool) *http.Response {
	var sum string
	if checksum { // the chunk is read twice: once to hash it here
		b, err := io.ReadAll(body)
		check(err)
		h := sha1.Sum(b)
		sum = "sha1 " + base64.StdEncoding.EncodeToString(h[:])
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(http.MethodPatch, loc, body)
	check(err)
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	if sum != "" {
		req.Header.Set("Upload-Checksum", sum)
	}
	return c.do(req)
}

// newSource returns size bytes: a real JPEG padded with comment segments
// of pseudo-random bytes (still a valid JPEG), or random bytes alone.
func newSource(jpegPath string, size int64) (io.Reader, error) {
	if jpegPath == "" {
		return io.LimitReader(&noise{}, size), nil
	}
	jpeg, err := os.ReadFile(jpegPath)
	if err != nil {
		return nil, err
	}
	if int64(len(jpeg))+5 > size {
		return nil, fmt.Errorf("-size must exceed the JPEG's %d bytes", len(jpeg))
	}
	return io.MultiReader(bytes.NewReader(jpeg[:2]), &comments{left: size - int64(len(jpeg))}, bytes.NewReader(jpeg[2:])), nil
}

// comments yields JPEG comment segments (FF FE, length, payload) totalling
// exactly left bytes; payloads repeat one block of noise, so that producing
// them costs the client almost nothing.
type comments struct {
	left    int64
	hdr     []byte // rest of the current segment's header
	payload int64  // rest of the current segment's payload
	pos     int    // position in block
	block   []byte
}

func (c *comments) Read(p []byte) (int, error) {
	if c.block == nil {
		c.block = make([]byte, 65533)
		(&noise{}).Read(c.block)
	}
	if len(c.hdr) == 0 && c.payload == 0 {
		if c.left == 0 {
			return 0, io.EOF
		}
		n := min(65533, c.left-4)
		if rest := c.left - 4 - n; rest > 0 && rest < 5 { // keep the tail large enough for a segment
			n -= 5
		}
		c.hdr = []byte{0xff, 0xfe, byte((n + 2) >> 8), byte(n + 2)}
		c.payload, c.left, c.pos = n, c.left-n-4, 0
	}
	if len(c.hdr) > 0 {
		k := copy(p, c.hdr)
		c.hdr = c.hdr[k:]
		return k, nil
	}
	k := copy(p[:min(int64(len(p)), c.payload)], c.block[c.pos:])
	c.pos += k
	c.payload -= int64(k)
	return k, nil
}

// noise is a fast pseudo-random byte stream.
type noise struct{ r *rand.ChaCha8 }

func (n *noise) Read(p []byte) (int, error) {
	if n.r == nil { // a new seed per run: content is unique, so dedupe does not skip storing it
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(time.Now().UnixNano()))
		n.r = rand.NewChaCha8(seed)
	}
	return n.r.Read(p)
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
