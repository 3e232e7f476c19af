// Command multipart benchmarks imgmgr's streaming multipart upload over
// loopback: N images of about 3 MB with concurrency C, or one huge file,
// and prints images/s, MB/s and the server's peak RSS (from /proc, when
// the server's pid is given).
//
//	go run ./bench/multipart -url http://127.0.0.1:8080 -user admin -password ... -pid $(pidof imgmgr) -n 200 -c 8
//	go run ./bench/multipart ... -huge 1073741824   # one 1 GiB JPEG, streamed from memory
//
// Each image is a real JPEG made unique by a comment segment, so dedupe
// does not short-cut the work; -huge pads a real JPEG with comment
// segments to the given size (still a valid JPEG that decodes).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/imgmgr/imgmgr/bench/internal/procstat"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

func main() {
	url := flag.String("url", "http://127.0.0.1:8080", "server base URL")
	user := flag.String("user", "admin", "username")
	password := flag.String("password", os.Getenv("IMGMGR_ADMIN_PASSWORD"), "password")
	src := flag.String("image", "testdata/images/photo/2569067123_aca715a2ee_o.jpg", "source JPEG")
	size := flag.Int("size", 3<<20, "bytes per uploaded image (padded with comment segments)")
	n := flag.Int("n", 100, "images to upload")
	c := flag.Int("c", 8, "concurrent uploads")
	huge := flag.Int64("huge", 0, "upload one file of this many bytes instead")
	pid := flag.Int("pid", 0, "server pid, to report its RSS")
	flag.Parse()

	jpeg, err := os.ReadFile(*src)
	check(err)
	tok, err := procstat.Login(*url, *user, *password)
	check(err)
	rss0 := procstat.RSS(*pid)
	stopWatch := procstat.WatchRSS(*pid, 20*time.Millisecond)

	start := time.Now()
	var ok, failed atomic.Int64
	var bytesSent int64
	if *huge > 0 {
		bytesSent = *huge
		if status := upload(*url, tok, padded(jpeg, *huge, 0)); status == 201 {
			ok.Add(1)
		} else {
			failed.Add(1)
			fmt.Fprintln(os.Stderr, "upload status", status)
		}
	} else {
		bytesSent = int64(*n) * int64(*size)
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range *c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					if upload(*url, tok, padded(jpeg, int64(*size), i+1)) == 201 {
						ok.Add(1)
					} else {
						failed.Add(1)
					}
				}
			}()
		}
		for i := range *n {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	}
	elapsed := time.Since(start)
	hwm := stopWatch()

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "uploads\tfailed\tconcurrency\tbytes each\tseconds\timages/s\tMB/s\tRSS before MiB\tpeak RSS MiB\tgrowth MiB")
	each := int64(*size)
	if *huge > 0 {
		each = *huge
	}
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%.2f\t%.1f\t%.1f\t%s\t%s\t%s\n", ok.Load(), failed.Load(), *c, each, elapsed.Seconds(),
		float64(ok.Load())/elapsed.Seconds(), float64(bytesSent)/1e6/elapsed.Seconds(), mib(rss0), mib(hwm), mib(hwm-rss0))
	tw.Flush()
}

// padded returns a reader of a valid JPEG of total bytes: SOI, comment
// segments (the first carries seq, so every image differs), then the rest
// of the source JPEG after its SOI.
func padded(jpeg []byte, total int64, seq int) io.Reader {
	rest := jpeg[2:]
	pad := total - int64(len(jpeg))
	var segs []io.Reader
	segs = append(segs, bytes.NewReader([]byte{0xFF, 0xD8}))
	first := true
	for pad > 4 {
		n := min(pad-4, 65533)
		if n < 1 {
			break
		}
		hdr := []byte{0xFF, 0xFE, byte((n + 2) >> 8), byte(n + 2)}
		body := io.LimitReader(zeroReader{}, n)
		if first {
			tag := []byte(fmt.Sprintf("imgmgr-bench %d %d ", seq, time.Now().UnixNano()))
			body = io.MultiReader(bytes.NewReader(tag), io.LimitReader(zeroReader{}, n-int64(len(tag))))
			first = false
		}
		segs = append(segs, bytes.NewReader(hdr), body)
		pad -= n + 4
	}
	segs = append(segs, bytes.NewReader(rest))
	return io.MultiReader(segs...)
}

type zeroReader struct{}

func (z zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func upload(base, tok string, body io.Reader) int {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		w, err := mw.CreateFormFile("file", "bench.jpg")
		if err == nil {
			_, err = io.Copy(w, body)
		}
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	req, _ := http.NewRequest("POST", base+"/api/v1/images", pr)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 0
	}
	defer resp.Body.Close()
	if resp.StatusCode != 201 {
		b, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(os.Stderr, "%d: %s\n", resp.StatusCode, b)
	}
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func mib(b int64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(b)/(1<<20))
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}
