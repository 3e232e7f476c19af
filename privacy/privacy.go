// Package privacy removes location data from images without re-encoding
// them, and reads the camera and location fields an image carries.
//
// StripLocation removes the EXIF GPS IFD, location properties of XMP
// (exif:GPS*, photoshop:City/State/Country, Iptc4xmpCore:Location,
// Iptc4xmpExt:LocationShown/LocationCreated, any *GPS* property such as
// DJI's) and the IPTC place datasets (city, sub-location, province/state,
// country, content location), from JPEG (also every image of an MPF/MPO
// file), PNG, GIF (XMP only: GIF has no EXIF), WebP, AVIF and HEIF. Pixels are never touched: every edit is
// made in place and keeps each block's length, so image data, RIFF sizes,
// VP8X flags, MPF offsets and HEIF item locations stay valid. A metadata
// block that cannot be parsed is zeroed (EXIF, IPTC) or blanked (XMP):
// what cannot be read cannot be vouched for. Everything else (camera
// fields, orientation, ICC profiles, copyright, captions) is kept.
//
// AVIF and HEIF are handled losslessly too: their Exif and XMP items are
// edited where iloc places them, in idat or in mdat, with no box rewritten.
// What is refused: formats with no editor here (TIFF, JPEG XL, SVG), HEIF
// files whose metadata items lie before the meta box that locates them
// (ErrLayout; a single pass has already sent those bytes), and files that
// do not parse. For those the caller must not hand the original to anyone
// but its owner: the fallback is a full-size re-encode through the variant
// pipeline (which drops all metadata), or a refusal.
//
// Not covered: locations inside maker notes (vendor-specific and rare),
// in a JPEG thumbnail's own EXIF, or in free-text fields (captions,
// keywords, comments).
package privacy

import (
	"errors"
	"io"

	"github.com/imgmgr/imgmgr"
)

// ErrUnsupported is returned for formats this package cannot edit; the
// caller must not serve such a file as "location removed" (see
// Supported).
var ErrUnsupported = imgmgr.Errorf(imgmgr.KindUnsupportedMedia, "strip_unsupported",
	"location data cannot be removed from this format without re-encoding")

// Supported reports whether StripLocation handles format (imgmgr's format
// names: jpeg, png, gif, webp, avif, heif, bmp).
func Supported(format string) bool {
	switch format {
	case "jpeg", "png", "gif", "webp", "avif", "heif", "bmp":
		return true
	}
	return false
}

// StripLocation copies the image in r to w without its location data (see
// the package comment). format is imgmgr's name for the content type
// (jpeg, png, gif, webp, avif, heif; bmp, which carries no metadata, is
// copied as is). It streams: memory holds only metadata blocks (bounded), never
// the image data. On error, w may have received part of the output, so a
// caller serving an HTTP response should write to a spool (or store the
// stripped copy once as a derived blob) and send it only on success.
// Errors: ErrUnsupported (KindUnsupportedMedia) for other formats,
// KindUnprocessable "strip_failed" for a file that does not parse; errors
// from r or w are returned wrapped.
func StripLocation(format string, r io.Reader, w io.Writer) error {
	var err error
	h := &stripper{}
	r, w = ioReader{r}, ioWriter{w}
	switch format {
	case "jpeg":
		err = walkJPEG(r, w, h)
	case "png":
		err = walkPNG(r, w, h)
	case "gif":
		err = walkGIF(r, w, h)
	case "webp":
		err = walkWebP(r, w, h)
	case "avif", "heif":
		err = walkISOBMFF(r, w, h)
	case "bmp":
		_, err = io.Copy(w, r)
	default:
		return ErrUnsupported
	}
	return classify("privacy.StripLocation", err)
}

// ioError marks errors of the underlying reader or writer.
type ioError struct{ err error }

func (e *ioError) Error() string { return e.err.Error() }
func (e *ioError) Unwrap() error { return e.err }

// ioReader and ioWriter mark the errors of the caller's reader and writer,
// so that a failing disk or client is not reported as a malformed image.
type ioReader struct{ r io.Reader }

func (r ioReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = &ioError{err}
	}
	return n, err
}

type ioWriter struct{ w io.Writer }

func (w ioWriter) Write(p []byte) (int, error) {
	n, err := w.w.Write(p)
	if err != nil {
		err = &ioError{err}
	}
	return n, err
}

// classify turns a walker error into an *imgmgr.Error.
func classify(op string, err error) error {
	if err == nil || errors.Is(err, errStop) {
		return nil
	}
	var e *imgmgr.Error
	if errors.As(err, &e) {
		return imgmgr.Wrap(op, err)
	}
	var ioe *ioError
	if errors.As(err, &ioe) {
		return imgmgr.Internal(op, ioe.err)
	}
	return &imgmgr.Error{Kind: imgmgr.KindUnprocessable, Code: "strip_failed", Op: op,
		Message: "the image's metadata could not be parsed", Err: err}
}

// errStop ends a walk early once a reader has what it wants.
var errStop = errors.New("stop")
