package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The hostile mix beside the upload flood: uploads whose bodies are
// chunked (no Content-Length, so the byte budget must meter what is read),
// clients that GET a large original and never read it (the server must cut
// them and free their connection slots), and variant requests whose render
// runs past delivery.render_timeout (503 at the deadline, never a 500).

// chunked hides a body's length, so net/http sends it chunked.
type chunked struct{ io.Reader }

// withChunkedBody makes req send its body with Transfer-Encoding: chunked.
func withChunkedBody(req *http.Request) *http.Request {
	b, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(chunked{bytes.NewReader(b)})
	req.ContentLength = -1
	req.GetBody = nil
	return req
}

// bigOriginal uploads, as the admin, a large valid JPEG (img padded with
// comment segments to about size bytes) for the slow readers and the
// render mix, and returns its id.
func (c *client) bigOriginal(adminTok string, img []byte, size int) (string, error) {
	pad := bytes.NewBuffer(append([]byte(nil), img[:2]...))
	seg := make([]byte, 65535+2)
	seg[0], seg[1], seg[2], seg[3] = 0xFF, 0xFE, 0xFF, 0xFF
	for pad.Len()+len(img) < size {
		pad.Write(seg[:4+65533])
	}
	pad.Write(img[2:])
	resp, err := c.http.Do(c.multipartRequest(adminTok, "", "flood-big-"+c.run+".jpg", uniqueJPEG(pad.Bytes(), "flood big "+c.run)))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Results []struct {
			Image struct{ ID string } `json:"image"`
		} `json:"results"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Results) != 1 || out.Results[0].Image.ID == "" {
		return "", fmt.Errorf("uploading the large original: %s", resp.Status)
	}
	return out.Results[0].Image.ID, nil
}

// signVariant returns the signed path of one variant of image id.
func (c *client) signVariant(adminTok, id, opts string) (string, error) {
	req := c.jsonRequest("POST", "/api/v1/images/"+id+"/urls", adminTok, map[string]any{"variants": []string{opts}})
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		URLs []string `json:"urls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.URLs) != 1 {
		return "", fmt.Errorf("signing %s: %s", opts, resp.Status)
	}
	return out.URLs[0], nil
}

// slowReaders keeps n connections that ask for path and stop reading the
// answer for hold; then each drains what arrived and counts whether the
// server had cut it (fewer bytes than Content-Length) before it asks again.
type slowReaders struct {
	stop         chan struct{}
	wg           sync.WaitGroup
	cuts, served atomic.Int64
}

func startSlowReaders(base, path, token string, n int, hold time.Duration) *slowReaders {
	s := &slowReaders{stop: make(chan struct{})}
	u, _ := url.Parse(base)
	for range n {
		s.wg.Go(func() { s.loop(u.Host, path, token, hold) })
	}
	return s
}

func (s *slowReaders) loop(addr, path, token string, hold time.Duration) {
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	for {
		c, err := d.Dial("tcp", addr)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", path, addr, token)
		stopped := false
		select {
		case <-time.After(hold):
		case <-s.stop:
			stopped = true
		}
		if !stopped {
			s.drain(c)
		}
		c.Close()
		if stopped {
			return
		}
	}
}

// drain reads the whole answer fast and counts it as cut or served.
func (s *slowReaders) drain(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		s.cuts.Add(1)
		return
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || n < resp.ContentLength {
		s.cuts.Add(1)
		return
	}
	s.served.Add(1)
}

func (s *slowReaders) end() (cuts, served int64) {
	close(s.stop)
	s.wg.Wait()
	return s.cuts.Load(), s.served.Load()
}

// mixSetup is what the hostile mix needs, made before the flood.
type mixSetup struct {
	adminTok   string
	bigID      string
	renderPath string
}

func (c *client) setupMix(o options, img []byte) (mixSetup, error) {
	var m mixSetup
	if o.slowReaders == 0 && o.renderMix == 0 {
		return m, nil
	}
	var err error
	if m.adminTok, err = c.login(o.admin, o.password); err != nil {
		return m, err
	}
	if m.bigID, err = c.bigOriginal(m.adminTok, img, o.bigSize); err != nil {
		return m, err
	}
	if o.renderMix > 0 {
		if m.renderPath, err = c.signVariant(m.adminTok, m.bigID, o.renderOpts); err != nil {
			return m, err
		}
	}
	return m, nil
}
