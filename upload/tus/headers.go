package tus

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// Protocol constants.
const (
	Version      = "1.0.0"
	Extensions   = "creation,creation-with-upload,creation-defer-length,expiration,checksum,checksum-trailer,termination,concatenation"
	offsetStream = "application/offset+octet-stream"
)

// ExposedHeaders are the response headers a browser client must be allowed
// to read (CORS Access-Control-Expose-Headers).
var ExposedHeaders = []string{"Location", "Upload-Offset", "Upload-Length", "Upload-Metadata", "Upload-Defer-Length",
	"Upload-Concat", "Upload-Expires", "Upload-Image-Id", "Tus-Version", "Tus-Resumable", "Tus-Max-Size",
	"Tus-Extension", "Tus-Checksum-Algorithm"}

// AllowedHeaders are the request headers a browser client sends (CORS
// Access-Control-Allow-Headers), besides Authorization and Content-Type.
var AllowedHeaders = []string{"Tus-Resumable", "Upload-Length", "Upload-Metadata", "Upload-Offset",
	"Upload-Defer-Length", "Upload-Concat", "Upload-Checksum", "X-HTTP-Method-Override"}

func invalid(code, format string, args ...any) error {
	return imgmgr.Errorf(imgmgr.KindInvalid, code, format, args...)
}

// parseCount parses a non-negative decimal header value: digits only, no
// sign, no spaces, at most 18 digits.
func parseCount(name, v string) (int64, error) {
	if v == "" || len(v) > 18 {
		return 0, invalid("invalid_header", "%s must be a non-negative integer", name)
	}
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, invalid("invalid_header", "%s must be a non-negative integer", name)
		}
	}
	n, _ := strconv.ParseInt(v, 10, 64)
	return n, nil
}

// singleHeader returns the one value of header name; repeated headers are
// refused rather than guessed between.
func singleHeader(h http.Header, name string) (string, bool, error) {
	vs := h.Values(name)
	switch len(vs) {
	case 0:
		return "", false, nil
	case 1:
		return vs[0], true, nil
	}
	return "", false, invalid("invalid_header", "%s is repeated", name)
}

// creationLength reads Upload-Length or Upload-Defer-Length of a creation
// request: the length, or -1 when deferred. Exactly one must be present
// unless final is set, where neither may be.
func creationLength(h http.Header, final bool) (int64, error) {
	lv, hasLen, err := singleHeader(h, "Upload-Length")
	if err != nil {
		return 0, err
	}
	dv, hasDefer, err := singleHeader(h, "Upload-Defer-Length")
	if err != nil {
		return 0, err
	}
	switch {
	case final && (hasLen || hasDefer):
		return 0, invalid("invalid_header", "a final upload takes no Upload-Length or Upload-Defer-Length")
	case final:
		return 0, nil
	case hasLen && hasDefer:
		return 0, invalid("invalid_header", "send Upload-Length or Upload-Defer-Length, not both")
	case hasDefer && dv != "1":
		return 0, invalid("invalid_header", "Upload-Defer-Length must be 1")
	case hasDefer:
		return -1, nil
	case !hasLen:
		return 0, invalid("invalid_header", "Upload-Length or Upload-Defer-Length: 1 is required")
	}
	return parseCount("Upload-Length", lv)
}

// concatHeader is a parsed Upload-Concat header.
type concatHeader struct {
	partial bool
	final   bool
	urls    []string // of a final upload, in order
}

func parseConcat(h http.Header) (concatHeader, error) {
	v, ok, err := singleHeader(h, "Upload-Concat")
	if err != nil || !ok {
		return concatHeader{}, err
	}
	if v == "partial" {
		return concatHeader{partial: true}, nil
	}
	list, ok := strings.CutPrefix(v, "final;")
	if !ok {
		return concatHeader{}, invalid("invalid_concat", "Upload-Concat must be partial or final;<urls>")
	}
	urls := strings.Fields(list)
	if len(urls) == 0 || len(urls) > 100 {
		return concatHeader{}, invalid("invalid_concat", "a final upload needs between 1 and 100 partial uploads")
	}
	return concatHeader{final: true, urls: urls}, nil
}

// ensureVersion refuses a request that does not speak tus 1.0.0.
func ensureVersion(w http.ResponseWriter, r *http.Request) error {
	if r.Header.Get("Tus-Resumable") == Version {
		return nil
	}
	w.Header().Set("Tus-Version", Version)
	return imgmgr.Errorf(imgmgr.KindPrecondition, "unsupported_version",
		"Tus-Resumable must be %s", Version)
}

// ensureOffsetStream refuses a body that is not application/offset+octet-stream.
func ensureOffsetStream(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) == offsetStream {
		return nil
	}
	return imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type",
		"the body must be %s", offsetStream)
}
