// Package upload receives files: streaming multipart here, resumable tus in
// upload/tus. Both hand every finished stream to ingest.
package upload

import (
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/ingest"
)

// Ingester is the part of ingest that multipart uses.
type Ingester interface {
	IngestReader(ctx context.Context, req ingest.Request, r io.Reader) (*imgmgr.Image, error)
}

// Publisher receives progress events.
type Publisher interface {
	Publish(ctx context.Context, ev imgmgr.Event) error
}

// MultipartConfig bounds a multipart request. Zero fields take defaults.
type MultipartConfig struct {
	MaxFiles      int           // file parts per request; default 100
	MaxFieldBytes int64         // per non-file field; default 64 KiB
	ProgressEvery time.Duration // progress event throttle per file; default 250ms
}

// Multipart streams POST /api/v1/images.
type Multipart struct {
	cfg    MultipartConfig
	ingest Ingester
	events Publisher // may be nil
}

// NewMultipart returns the multipart receiver.
func NewMultipart(cfg MultipartConfig, ing Ingester, events Publisher) *Multipart {
	if cfg.MaxFiles == 0 {
		cfg.MaxFiles = 100
	}
	if cfg.MaxFieldBytes == 0 {
		cfg.MaxFieldBytes = 64 << 10
	}
	if cfg.ProgressEvery == 0 {
		cfg.ProgressEvery = 250 * time.Millisecond
	}
	return &Multipart{cfg: cfg, ingest: ing, events: events}
}

// Result is the outcome for one file part, in part order.
type Result struct {
	Filename string        `json:"filename"`
	UploadID string        `json:"upload_id,omitempty"`
	Status   string        `json:"status"` // created | error
	Image    *imgmgr.Image `json:"image,omitempty"`
	Error    *ErrorBody    `json:"error,omitempty"`
	err      error
}

// ErrorBody is the client-safe form of a per-file error.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Response is the body of a multipart upload answer. When no file was
// stored, Error repeats the first failure and the status is its status.
type Response struct {
	Results []Result   `json:"results"`
	Error   *ErrorBody `json:"error,omitempty"`
}

// Receive reads the parts as a stream; fields apply to the file parts that
// follow them (title, tags, album, visibility, upload_id, size). It returns
// the results and, when nothing was stored, the error to answer with.
func (m *Multipart) Receive(r *http.Request, owner imgmgr.Principal) (*Response, error) {
	mr, err := multipartReader(r)
	if err != nil {
		return nil, err
	}
	req := ingest.Request{Owner: owner}
	var size int64 = -1
	resp := &Response{Results: []Result{}}
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			resp.Results = append(resp.Results, failed("", "", brokenStream(err)))
			break
		}
		name := part.FormName()
		if part.FileName() == "" && name != "file" {
			if err := m.field(part, name, &req, &size); err != nil {
				// Files before the field may be stored: answer with them.
				resp.Results = append(resp.Results, failed("", req.UploadID, err))
				break
			}
			continue
		}
		if name != "file" {
			part.Close()
			continue
		}
		if len(resp.Results) >= m.cfg.MaxFiles {
			resp.Results = append(resp.Results, failed(part.FileName(), req.UploadID,
				imgmgr.Errorf(imgmgr.KindTooLarge, "too_many_files", "at most %d files per request", m.cfg.MaxFiles)))
			break
		}
		res := m.file(r.Context(), req, part, size)
		resp.Results = append(resp.Results, res)
		req.UploadID, size = "", -1
		if res.err != nil && stopsStream(res.err) {
			break
		}
	}
	return resp, resp.finish()
}

func multipartReader(r *http.Request) (*multipart.Reader, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" {
		return nil, imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type", "the body must be multipart/form-data")
	}
	if params["boundary"] == "" {
		return nil, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_multipart", "the multipart boundary is missing")
	}
	return multipart.NewReader(r.Body, params["boundary"]), nil
}

// field reads one small form field into req.
func (m *Multipart) field(part *multipart.Part, name string, req *ingest.Request, size *int64) error {
	defer part.Close()
	b, err := io.ReadAll(io.LimitReader(part, m.cfg.MaxFieldBytes+1))
	if err != nil {
		return brokenStream(err)
	}
	if int64(len(b)) > m.cfg.MaxFieldBytes {
		return imgmgr.Errorf(imgmgr.KindTooLarge, "field_too_large", "field %q is larger than %d bytes", name, m.cfg.MaxFieldBytes)
	}
	v := string(b)
	switch name {
	case "title":
		req.Title = v
	case "tags":
		req.Tags = ingest.SplitTags(v)
	case "album":
		req.Album = v
	case "visibility":
		req.Visibility = imgmgr.Visibility(strings.TrimSpace(v))
	case "upload_id":
		req.UploadID = strings.TrimSpace(v)
	case "size":
		*size = parseSize(v)
	}
	return nil
}

func (m *Multipart) file(ctx context.Context, req ingest.Request, part *multipart.Part, size int64) Result {
	defer part.Close()
	req.Filename = imgmgr.CleanText(part.FileName()) // ingest cleans it too; events and results echo it
	var body io.Reader = partReader{part}
	if m.events != nil && req.UploadID != "" {
		body = &progressReader{r: body, ctx: ctx, events: m.events, every: m.cfg.ProgressEvery,
			ev: imgmgr.Event{Type: imgmgr.EventUploadProgress, UserID: req.Owner.UserID, UploadID: req.UploadID,
				Filename: req.Filename, Stage: "receiving", Length: size}}
	}
	im, err := m.ingest.IngestReader(ctx, req, body)
	if err != nil {
		return failed(req.Filename, req.UploadID, err)
	}
	return Result{Filename: req.Filename, UploadID: req.UploadID, Status: "created", Image: im}
}

func failed(filename, uploadID string, err error) Result {
	return Result{Filename: filename, UploadID: uploadID, Status: "error", Error: clientError(err), err: err}
}

// stopsStream reports whether reading further parts is pointless or
// unwanted: the stream broke, a file was too large, or the body ran out
// of rate-limit budget (stop reading).
func stopsStream(err error) bool {
	c, k := imgmgr.CodeOf(err), imgmgr.KindOf(err)
	return c == "upload_interrupted" || c == "invalid_multipart" || k == imgmgr.KindTooLarge || k == imgmgr.KindRateLimited
}

// finish returns nil when a file was stored, else the error to answer with.
func (resp *Response) finish() error {
	for _, r := range resp.Results {
		if r.err == nil {
			return nil
		}
	}
	if len(resp.Results) == 0 {
		err := imgmgr.Errorf(imgmgr.KindInvalid, "no_file", "the request has no file part named \"file\"")
		resp.Error = clientError(err)
		return err
	}
	resp.Error = resp.Results[0].Error
	return resp.Results[0].err
}

// brokenStream is a malformed or truncated body (400), except that an
// *imgmgr.Error of the request body itself (the upload byte budget ran
// out: 429) is kept as it is.
func brokenStream(err error) error {
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return err
	}
	return &imgmgr.Error{Kind: imgmgr.KindInvalid, Code: "invalid_multipart", Message: "the multipart body is malformed or truncated", Err: err}
}

func clientError(err error) *ErrorBody {
	code, msg := imgmgr.PublicError(err)
	return &ErrorBody{Code: code, Message: msg}
}

func parseSize(v string) int64 {
	var n int64
	for _, c := range strings.TrimSpace(v) {
		if c < '0' || c > '9' || n > 1<<50 {
			return -1
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// partReader reports a broken multipart stream as the client's fault.
type partReader struct{ p *multipart.Part }

func (r partReader) Read(b []byte) (int, error) {
	n, err := r.p.Read(b)
	if err != nil && !errors.Is(err, io.EOF) {
		err = brokenStream(err)
	}
	return n, err
}

// progressReader publishes throttled progress events as bytes arrive.
type progressReader struct {
	r      io.Reader
	ctx    context.Context
	events Publisher
	every  time.Duration
	ev     imgmgr.Event
	last   time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.ev.Offset += int64(n)
	if now := time.Now(); now.Sub(p.last) >= p.every || errors.Is(err, io.EOF) {
		p.last = now
		ev := p.ev
		ev.Time = now.UTC()
		_ = p.events.Publish(context.WithoutCancel(p.ctx), ev) // progress is best effort
	}
	return n, err
}

// Stopped reports whether reading stopped before the end of the body (a
// broken stream or a refused file), so the server should close the
// connection rather than drain what it refused to read.
func (resp *Response) Stopped() bool {
	n := len(resp.Results)
	return n > 0 && resp.Results[n-1].err != nil && stopsStream(resp.Results[n-1].err)
}
