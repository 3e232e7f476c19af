package vips

import (
	"errors"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// The stable error codes this package gives clients.
const (
	CodeUndecodable   = "undecodable"
	CodeTooManyPixels = "too_many_pixels"
	CodeUnsupported   = "unsupported_media_type"
)

// decodeError turns a failed libvips decode into a client error: the file
// is the client's, so a decoder failure is 422, never 500. libheif's own
// size guard (over 16384×16384) becomes too_many_pixels. The libvips text
// goes to Err, for logs only.
func decodeError(op, libvipsText string) error {
	cause := errors.New(strings.TrimSpace(libvipsText))
	lower := strings.ToLower(libvipsText)
	if strings.Contains(lower, "security limit exceeded") || strings.Contains(lower, "exceeds the maximum image size") {
		return &imgmgr.Error{Kind: imgmgr.KindUnprocessable, Code: CodeTooManyPixels, Op: op,
			Message: "the image is larger than the decoder accepts", Err: cause}
	}
	return &imgmgr.Error{Kind: imgmgr.KindUnprocessable, Code: CodeUndecodable, Op: op,
		Message: "the image cannot be decoded", Err: cause}
}

func unsupported(op string) error {
	return &imgmgr.Error{Kind: imgmgr.KindUnsupportedMedia, Code: CodeUnsupported, Op: op,
		Message: "the file is not an image format imgmgr decodes"}
}
