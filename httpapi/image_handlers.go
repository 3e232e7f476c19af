package httpapi

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/images"
)

// uploadImages answers a multipart upload: 201 with a result per file when
// at least one was stored, else the first failure's status with the results.
func (s *Server) uploadImages(w http.ResponseWriter, r *http.Request) error {
	resp, err := s.deps.Upload.Receive(r, principal(r))
	if resp == nil || imgmgr.KindOf(err) == imgmgr.KindInternal && err != nil {
		return err
	}
	status := http.StatusCreated
	if err != nil {
		status = Status(err)
		setRetryAfter(w, err)
		s.log.DebugContext(r.Context(), "upload refused", "err", err)
	}
	if resp.Stopped() {
		w.Header().Set("Connection", "close")
	}
	writeJSON(w, status, resp)
	return nil
}

func (s *Server) listImages(w http.ResponseWriter, r *http.Request) error {
	f, err := imageFilter(r.URL.Query())
	if err != nil {
		return err
	}
	page, err := s.deps.Images.List(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	if page.Images == nil {
		page.Images = []imgmgr.Image{}
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// imageFilter reads the listing's query parameters.
func imageFilter(q url.Values) (imgmgr.ImageFilter, error) {
	f := imgmgr.ImageFilter{
		OwnerID: q.Get("owner"), AlbumID: q.Get("album"), Tag: q.Get("tag"), Format: q.Get("format"),
		Visibility: imgmgr.Visibility(q.Get("visibility")), Text: q.Get("q"), Sort: q.Get("sort"), Cursor: q.Get("cursor"),
	}
	var err error
	if v := q.Get("limit"); v != "" {
		if f.Limit, err = strconv.Atoi(v); err != nil || f.Limit < 1 || f.Limit > 200 {
			return f, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_query", "limit must be 1..200")
		}
	}
	for name, dst := range map[string]*time.Time{"created_after": &f.CreatedAfter, "created_before": &f.CreatedBefore} {
		if v := q.Get(name); v != "" {
			if *dst, err = parseTime(v); err != nil {
				return f, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_query", "%s must be RFC 3339 or YYYY-MM-DD", name)
			}
		}
	}
	switch f.Sort {
	case "", imgmgr.SortCreatedDesc, imgmgr.SortCreatedAsc, imgmgr.SortSizeAsc, imgmgr.SortSizeDesc, imgmgr.SortTitleAsc, imgmgr.SortTitleDesc:
	default:
		return f, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_query", "sort must be one of -created, created, -size, size, title, -title")
	}
	return f, nil
}

func parseTime(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", v)
}

func (s *Server) getImage(w http.ResponseWriter, r *http.Request) error {
	im, err := s.deps.Images.Details(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

func (s *Server) updateImage(w http.ResponseWriter, r *http.Request) error {
	var upd imgmgr.ImageUpdate
	if err := decodeJSON(r, &upd); err != nil {
		return err
	}
	im, err := s.deps.Images.Update(r.Context(), principal(r), r.PathValue("id"), upd)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, im)
	return nil
}

func (s *Server) deleteImage(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Images.Delete(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) batchImages(w http.ResponseWriter, r *http.Request) error {
	var req images.BatchRequest
	if err := decodeJSON(r, &req); err != nil {
		return err
	}
	res, err := s.deps.Images.Batch(r.Context(), principal(r), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
	return nil
}

// original serves the stored bytes with ServeContent: Content-Type from
// the sniffed format, a strong ETag from the SHA-256, Last-Modified, 304
// and Range.
func (s *Server) original(w http.ResponseWriter, r *http.Request) error {
	o, err := s.deps.Images.OpenOriginal(r.Context(), principal(r), r.PathValue("id"), s.deps.PublicOriginals)
	if err != nil {
		return err
	}
	defer o.Body.Close()
	im, h := o.Image, w.Header()
	h.Set("Content-Type", im.ContentType())
	h.Set("ETag", `"`+im.SHA256+`"`)
	h.Set("Cache-Control", "private, max-age=3600")
	if o.Stripped { // a different representation: the copy without location tags
		h.Set("ETag", `"`+im.SHA256+`.public"`)
		h.Set("Cache-Control", "public, max-age=3600")
		if im.Visibility != imgmgr.Public {
			h.Set("Cache-Control", "private, max-age=3600")
		}
	}
	h.Set("Content-Disposition", contentDisposition(im))
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; sandbox")
	http.ServeContent(&contentErrors{ResponseWriter: w, r: r, log: s.log}, r, "", im.CreatedAt, o.Body)
	return nil
}

// contentErrors turns the refusals http.ServeContent writes itself (412 on
// If-Match, 416 on a bad Range, 500 on a failed seek) into the API's JSON
// error body. A 416 keeps its Content-Range; no error names a download.
type contentErrors struct {
	http.ResponseWriter
	r      *http.Request
	log    *slog.Logger
	failed int // the error status written, 0 before
}

func (w *contentErrors) WriteHeader(code int) {
	if code < 400 || w.failed != 0 {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	w.failed = code
	var d ErrorDetail
	switch code {
	case http.StatusPreconditionFailed:
		d = ErrorDetail{Code: "precondition_failed", Message: "the image does not match If-Match or If-Unmodified-Since"}
	case http.StatusRequestedRangeNotSatisfiable:
		d = ErrorDetail{Code: "range_not_satisfiable", Message: "the range lies outside the image"}
	default:
		d = Detail(imgmgr.Internal("httpapi.original", fmt.Errorf("ServeContent answered %d", code)))
	}
	h := w.Header()
	for _, k := range []string{"Content-Disposition", "Content-Length", "ETag", "Last-Modified"} {
		h.Del(k)
	}
	writeJSON(w.ResponseWriter, code, ErrorBody{Error: d})
}

// Write drops ServeContent's plain-text message after a JSON error; the
// message of a server error goes to the log.
func (w *contentErrors) Write(b []byte) (int, error) {
	if w.failed >= 500 {
		w.log.ErrorContext(w.r.Context(), "serving original", "status", w.failed, "err", strings.TrimSpace(string(b)))
	}
	if w.failed != 0 {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// contentDisposition names the download: the uploaded filename, quoted, or
// in the RFC 6266 filename* form when it is not ASCII; else id.format.
func contentDisposition(im *imgmgr.Image) string {
	// Cleaned again: rows stored before names were cleaned may hold
	// bidi overrides.
	if name := imgmgr.CleanText(im.Filename); name != "" {
		if cd := mime.FormatMediaType("inline", map[string]string{"filename": name}); cd != "" {
			return cd
		}
	}
	return mime.FormatMediaType("inline", map[string]string{"filename": im.ID + "." + im.Format})
}

func (s *Server) listAlbums(w http.ResponseWriter, r *http.Request) error {
	as, err := s.deps.Images.ListAlbums(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if as == nil {
		as = []imgmgr.Album{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"albums": as})
	return nil
}

type albumBody struct {
	Name string `json:"name"`
}

func (s *Server) createAlbum(w http.ResponseWriter, r *http.Request) error {
	var in albumBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.deps.Images.CreateAlbum(r.Context(), principal(r), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) renameAlbum(w http.ResponseWriter, r *http.Request) error {
	var in albumBody
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	a, err := s.deps.Images.RenameAlbum(r.Context(), principal(r), r.PathValue("id"), in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteAlbum(w http.ResponseWriter, r *http.Request) error {
	if err := s.deps.Images.DeleteAlbum(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTags(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.deps.Images.ListTags(r.Context(), principal(r))
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []imgmgr.TagCount{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": ts})
	return nil
}

func (s *Server) stats(w http.ResponseWriter, r *http.Request) error {
	st, err := s.deps.Images.Stats(r.Context(), principal(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

// signURLs answers {"variants":[options...],"expires_in":seconds} with
// {"urls":[...]} in the same order; clients never compute HMACs. An
// option may end in @ext (e.g. "rs:fit:800:0@webp") to fix the format.
func (s *Server) signURLs(w http.ResponseWriter, r *http.Request) error {
	var in signRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(1); err != nil {
		return err
	}
	im, err := s.deps.Images.Get(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	urls, err := s.sign(im, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"urls": urls})
	return nil
}

// signURLsBatch signs the same variants for many images in one request
// (a gallery page): {"ids":[...],"variants":[...],"expires_in":s} ->
// {"urls":{id:[...]},"errors":{id:{code,message}}}.
func (s *Server) signURLsBatch(w http.ResponseWriter, r *http.Request) error {
	var in signRequest
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if err := in.check(len(in.IDs)); err != nil {
		return err
	}
	urls, errs := map[string][]string{}, map[string]ErrorDetail{}
	for _, id := range in.IDs {
		im, err := s.deps.Images.Get(r.Context(), principal(r), id)
		if err == nil {
			urls[id], err = s.sign(im, in)
		}
		if err != nil {
			if imgmgr.KindOf(err) == imgmgr.KindInternal {
				return err
			}
			errs[id] = Detail(err)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"urls": urls, "errors": errs})
	return nil
}

// signRequest is the body of both signing routes.
type signRequest struct {
	IDs       []string `json:"ids,omitempty"` // batch only
	Variants  []string `json:"variants"`
	ExpiresIn int64    `json:"expires_in"`
}

// maxSignedURLs bounds the URLs one request signs.
const maxSignedURLs = 1000

func (in signRequest) check(images int) error {
	n := len(in.Variants) * images
	if len(in.Variants) == 0 || images == 0 || n > maxSignedURLs || in.ExpiresIn < 0 || in.ExpiresIn > 10*365*86400 {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_request", "give images and variants (at most %d URLs) and expires_in from 0 to ten years", maxSignedURLs)
	}
	return nil
}

func (s *Server) sign(im *imgmgr.Image, in signRequest) ([]string, error) {
	urls := make([]string, len(in.Variants))
	for i, v := range in.Variants {
		opts, ext, _ := strings.Cut(v, "@")
		var err error
		if urls[i], err = s.deps.Signer.SignImage(im, opts, ext, time.Duration(in.ExpiresIn)*time.Second); err != nil {
			return nil, err
		}
	}
	return urls, nil
}
