package vips

/*
#include "shim.h"
*/
import "C"

import (
	"io"
	"os"
	"strings"
	"unsafe"

	"github.com/imgmgr/imgmgr"
)

// Decoder offers the header probe and decode check as methods, for
// consumers that declare them as an interface (ingest). The zero value is
// ready once Startup has run.
type Decoder struct{}

func (Decoder) ProbeFile(path string) (imgmgr.Header, error) { return ProbeFile(path) }
func (Decoder) ProbeBuffer(b []byte) (imgmgr.Header, error)  { return ProbeBuffer(b) }
func (Decoder) VerifyFile(path string) error                 { return VerifyFile(path) }
func (Decoder) VerifyBuffer(b []byte) error                  { return VerifyBuffer(b) }

// ProbeFile reads the image header of the file at path without decoding
// pixels: format, one frame's width and height, frames, alpha and EXIF
// orientation. A file that is no supported image, or whose header libvips
// refuses, gives a KindUnsupportedMedia or KindUnprocessable error; a file
// that cannot be read gives an internal error.
func ProbeFile(path string) (imgmgr.Header, error) {
	const op = "vips.ProbeFile"
	if err := started(op); err != nil {
		return imgmgr.Header{}, imgmgr.Internal(op, err)
	}
	head, err := readHead(path)
	if err != nil {
		return imgmgr.Header{}, imgmgr.Internal(op, err)
	}
	format := sniff(head)
	if format == "" || format == "svg" { // untrusted input: SVG only ever renders once sanitised and stored
		return imgmgr.Header{}, unsupported(op)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var h C.imgmgr_header
	if C.imgmgr_probe_file(cpath, &h) != 0 {
		return imgmgr.Header{}, decodeError(op, takeError())
	}
	return header(op, format, &h)
}

// ProbeBuffer is ProbeFile for an image held in memory.
func ProbeBuffer(b []byte) (imgmgr.Header, error) {
	const op = "vips.ProbeBuffer"
	if err := started(op); err != nil {
		return imgmgr.Header{}, imgmgr.Internal(op, err)
	}
	format := sniff(b[:min(len(b), sniffLen)])
	if format == "" || format == "svg" { // untrusted input: SVG only ever renders once sanitised and stored
		return imgmgr.Header{}, unsupported(op)
	}
	var h C.imgmgr_header
	// The buffer is used only during this call: the shim unrefs the image
	// before returning.
	if C.imgmgr_probe_buffer(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), &h) != 0 {
		return imgmgr.Header{}, decodeError(op, takeError())
	}
	return header(op, format, &h)
}

func readHead(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	head := make([]byte, sniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return nil, err
	}
	return head[:n], nil
}

// header converts the shim's header, checking that libvips used the loader
// the leading bytes promised.
func header(op, sniffed string, h *C.imgmgr_header) (imgmgr.Header, error) {
	loader := C.GoString(&h.loader[0])
	format := formatOf(loader, C.GoString(&h.compression[0]))
	if format != sniffed && !(sniffed == "heif" && format == "avif") {
		return imgmgr.Header{}, decodeError(op, "loader "+loader+" does not match the "+sniffed+" signature")
	}
	return imgmgr.Header{
		Format:      format,
		Width:       int(h.width),
		Height:      int(h.height),
		Frames:      max(int(h.pages), 1),
		HasAlpha:    h.alpha != 0,
		Orientation: int(h.orientation),
	}, nil
}

// formatOf maps a libvips loader name ("pngload_buffer") to a format name.
func formatOf(loader, heifCompression string) string {
	name := loader
	if i := strings.Index(name, "load"); i > 0 {
		name = name[:i]
	}
	switch name {
	case "jpeg", "png", "webp", "jxl", "tiff":
		return name
	case "gif":
		return "gif"
	case "heif":
		if heifCompression == "av1" {
			return "avif"
		}
		return "heif"
	case "magick":
		return "bmp" // only BMP reaches ImageMagick: see sniff
	}
	return name
}
