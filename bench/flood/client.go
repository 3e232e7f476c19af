package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
	"time"
)

// requestTimeout bounds one request; a flood that makes the server this
// slow shows up as transport errors in the table.
const requestTimeout = 60 * time.Second

type client struct {
	base string
	http *http.Client
	run  string // random id of this run, in usernames and JPEG comments
}

func newClient(base string, clients int) *client {
	tr := &http.Transport{MaxIdleConns: clients * 2, MaxIdleConnsPerHost: clients * 2, IdleConnTimeout: 30 * time.Second}
	b := make([]byte, 4)
	rand.Read(b)
	return &client{base: strings.TrimRight(base, "/"), http: &http.Client{Transport: tr}, run: hex.EncodeToString(b)}
}

// outcome is one answered (or failed) request.
type outcome struct {
	status  int    // 0: transport error
	code    string // error.code of a JSON error body
	limit   string // RateLimit-Limit of a 429: which bucket said no
	imageID string // tus: Upload-Image-Id
	loc     string // tus: Location
	retry   time.Duration
	dur     time.Duration
	err     error
}

func (c *client) do(req *http.Request) outcome {
	ctx, cancel := context.WithTimeout(req.Context(), requestTimeout)
	defer cancel()
	start := time.Now()
	resp, err := c.http.Do(req.WithContext(ctx))
	if err != nil {
		return outcome{dur: time.Since(start), err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	o := outcome{status: resp.StatusCode, dur: time.Since(start), err: err,
		imageID: resp.Header.Get("Upload-Image-Id"), loc: resp.Header.Get("Location")}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		json.Unmarshal(body, &e)
		o.code = e.Error.Code
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		o.limit = resp.Header.Get("RateLimit-Limit")
	}
	if secs, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
		o.retry = time.Duration(secs) * time.Second
	}
	return o
}

func (c *client) jsonRequest(method, path, token string, in any) *http.Request {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return req
}

// login returns an access token, waiting out the login rate limit.
func (c *client) login(user, password string) (string, error) {
	for range 100 {
		req := c.jsonRequest("POST", "/api/v1/auth/login", "", map[string]string{"username": user, "password": password})
		resp, err := c.http.Do(req)
		if err != nil {
			return "", err
		}
		var t struct {
			AccessToken string `json:"access_token"`
		}
		err = json.NewDecoder(resp.Body).Decode(&t)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			time.Sleep(time.Duration(max(secs, 1)) * time.Second)
		case resp.StatusCode != http.StatusOK || err != nil:
			return "", fmt.Errorf("login %s: %s", user, resp.Status)
		default:
			return t.AccessToken, nil
		}
	}
	return "", fmt.Errorf("login %s: still rate limited", user)
}

// setupUsers creates n users and returns a token for each.
func (c *client) setupUsers(admin, password string, n int) ([]string, error) {
	adminTok, err := c.login(admin, password)
	if err != nil {
		return nil, err
	}
	pw := "flood-" + c.run + "-password"
	var tokens []string
	for i := range n {
		name := fmt.Sprintf("flood-%s-%03d", c.run, i)
		o := c.do(c.jsonRequest("POST", "/api/v1/users", adminTok, map[string]string{"username": name, "password": pw, "role": "user"}))
		if o.status != http.StatusCreated {
			return nil, fmt.Errorf("creating user %s: %d %s %v", name, o.status, o.code, o.err)
		}
		tok, err := c.login(name, pw)
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, tok)
	}
	return tokens, nil
}

// uniqueJPEG inserts a comment segment (FF FE) naming tag after SOI: the
// same picture, a different SHA-256, so nothing deduplicates.
func uniqueJPEG(img []byte, tag string) []byte {
	out := make([]byte, 0, len(img)+len(tag)+4)
	out = append(out, img[:2]...)
	out = append(out, 0xFF, 0xFE)
	out = binary.BigEndian.AppendUint16(out, uint16(len(tag)+2))
	out = append(out, tag...)
	return append(out, img[2:]...)
}

// multipartRequest builds POST /api/v1/images with one file part.
func (c *client) multipartRequest(token, xff, name string, jpeg []byte) *http.Request {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, name))
	h.Set("Content-Type", "image/jpeg")
	pw, _ := mw.CreatePart(h)
	pw.Write(jpeg)
	mw.Close()
	req, _ := http.NewRequest("POST", c.base+"/api/v1/images", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	setAuth(req, token, xff)
	return req
}

// tusCreate builds the creation POST of a tus upload of n bytes.
func (c *client) tusCreate(token, xff, name string, n int) *http.Request {
	req, _ := http.NewRequest("POST", c.base+"/api/v1/uploads/", nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Length", strconv.Itoa(n))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte(name)))
	setAuth(req, token, xff)
	return req
}

// tusPatch builds the one PATCH that sends all of jpeg to loc.
func (c *client) tusPatch(token, xff, loc string, jpeg []byte) *http.Request {
	if strings.HasPrefix(loc, "/") {
		loc = c.base + loc
	}
	req, _ := http.NewRequest("PATCH", loc, bytes.NewReader(jpeg))
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	setAuth(req, token, xff)
	return req
}

func (c *client) tusDelete(token, xff, loc string) *http.Request {
	if strings.HasPrefix(loc, "/") {
		loc = c.base + loc
	}
	req, _ := http.NewRequest("DELETE", loc, nil)
	req.Header.Set("Tus-Resumable", "1.0.0")
	setAuth(req, token, xff)
	return req
}

func setAuth(req *http.Request, token, xff string) {
	req.Header.Set("Authorization", "Bearer "+token)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
}

// worker is one flooding client.
type worker struct {
	c        *client
	id       int
	seq      int
	token    string
	xff      string
	img      []byte
	st       *stats
	tusShare float64
	polite   bool      // wait out Retry-After before the next upload
	deadline time.Time // of the flood: a polite wait ends there

	chunked    float64 // share of multipart uploads sent chunked
	renderMix  float64 // share of requests for the slow variant
	renderPath string
}

func (w *worker) upload() {
	w.seq++
	tag := fmt.Sprintf("flood %s client %d upload %d", w.c.run, w.id, w.seq)
	jpeg := uniqueJPEG(w.img, tag)
	name := fmt.Sprintf("flood-%d-%d.jpg", w.id, w.seq)
	var o outcome
	switch r := mrand.Float64(); {
	case r < w.renderMix:
		req, _ := http.NewRequest("GET", w.c.base+w.renderPath, nil)
		o = w.c.do(req)
		w.st.add("render past the timeout", o)
	case mrand.Float64() < w.tusShare:
		o = w.tusUpload(name, jpeg)
	case mrand.Float64() < w.chunked:
		o = w.c.do(withChunkedBody(w.c.multipartRequest(w.token, w.xff, name, jpeg)))
		w.st.add("multipart POST chunked", o)
	default:
		o = w.c.do(w.c.multipartRequest(w.token, w.xff, name, jpeg))
		w.st.add("multipart POST", o)
	}
	if w.polite && o.retry > 0 {
		time.Sleep(min(o.retry, time.Until(w.deadline)))
	}
}

// tusUpload creates an upload and sends it in one PATCH; an upload that
// did not complete is terminated so it does not count as unfinished. It
// returns the outcome of the last upload request.
func (w *worker) tusUpload(name string, jpeg []byte) outcome {
	o := w.c.do(w.c.tusCreate(w.token, w.xff, name, len(jpeg)))
	w.st.add("tus POST", o)
	if o.status != http.StatusCreated || o.loc == "" {
		return o
	}
	loc := o.loc
	o = w.c.do(w.c.tusPatch(w.token, w.xff, loc, jpeg))
	if o.status == http.StatusNoContent && o.imageID == "" {
		o.code = "no_image_id" // all bytes taken but nothing stored
	}
	w.st.add("tus PATCH", o)
	if o.status != http.StatusNoContent || o.imageID == "" {
		w.st.add("tus DELETE", w.c.do(w.c.tusDelete(w.token, w.xff, loc)))
	}
	return o
}
