package httpapi

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// statusOf is the one table from error kind to HTTP status.
var statusOf = map[imgmgr.Kind]int{
	imgmgr.KindInternal:            http.StatusInternalServerError,
	imgmgr.KindInvalid:             http.StatusBadRequest,
	imgmgr.KindUnauthenticated:     http.StatusUnauthorized,
	imgmgr.KindPermission:          http.StatusForbidden,
	imgmgr.KindNotFound:            http.StatusNotFound,
	imgmgr.KindConflict:            http.StatusConflict,
	imgmgr.KindGone:                http.StatusGone,
	imgmgr.KindPrecondition:        http.StatusPreconditionFailed,
	imgmgr.KindTooLarge:            http.StatusRequestEntityTooLarge,
	imgmgr.KindUnsupportedMedia:    http.StatusUnsupportedMediaType,
	imgmgr.KindUnprocessable:       http.StatusUnprocessableEntity,
	imgmgr.KindLocked:              http.StatusLocked,
	imgmgr.KindRateLimited:         http.StatusTooManyRequests,
	imgmgr.KindChecksumMismatch:    460,
	imgmgr.KindUnavailable:         http.StatusServiceUnavailable,
	imgmgr.KindInsufficientStorage: http.StatusInsufficientStorage,
}

// Status returns the HTTP status for err's kind.
func Status(err error) int { return statusOf[imgmgr.KindOf(err)] }

// ErrorBody is the JSON of every error response.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the client-facing part of an error.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Detail returns the client-safe code and message of err: an internal
// error says only "internal error".
func Detail(err error) ErrorDetail {
	code, msg := imgmgr.PublicError(err)
	return ErrorDetail{Code: code, Message: msg}
}

// WriteError writes err as JSON with its status (and Retry-After when it
// has one) and logs it: internal errors at error level with their cause.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	status := Status(err)
	setRetryAfter(w, err)
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		log.DebugContext(r.Context(), "request refused", "status", status, "err", err)
	}
	writeJSON(w, status, ErrorBody{Error: Detail(err)})
}

// setRetryAfter tells a client when to come back from a 429, 503 or 507.
func setRetryAfter(w http.ResponseWriter, err error) {
	if d := imgmgr.RetryAfterOf(err); d > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
	} else if s := Status(err); s == http.StatusServiceUnavailable || s == http.StatusTooManyRequests || s == http.StatusInsufficientStorage {
		w.Header().Set("Retry-After", "1")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v) // the client went away: nothing to do
}

// maxJSONBody bounds JSON request bodies.
const maxJSONBody = 1 << 20

// decodeJSON reads one JSON object strictly: unknown fields, trailing data,
// a wrong type or an oversized body are 400s that name the problem.
func decodeJSON(r *http.Request, v any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "unsupported_media_type", "the body must be application/json")
	}
	dec := json.NewDecoder(io.LimitReader(r.Body, maxJSONBody+1))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_json", "the body is empty")
		case errors.As(err, &te):
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_json", "field %q must be %s", te.Field, te.Type)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_json", "%s", strings.TrimPrefix(err.Error(), "json: "))
		}
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_json", "the body is not valid JSON")
	}
	if dec.More() {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_json", "unexpected data after the JSON object")
	}
	return nil
}
