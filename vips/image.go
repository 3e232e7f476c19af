package vips

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unsafe"

	"github.com/imgmgr/imgmgr"
)

// Source is encoded image bytes for Thumbnail: a file, or bytes held in C
// memory that libvips frees once no image made from them is left. A Source
// is used by one Thumbnail call; Close it afterwards (images made from it
// stay valid).
type Source struct {
	p *C.VipsSource
}

// SourceFile opens a Source over the file at path.
func SourceFile(path string) (*Source, error) {
	const op = "vips.SourceFile"
	if err := started(op); err != nil {
		return nil, imgmgr.Internal(op, err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	p := C.vips_source_new_from_file(cpath)
	if p == nil {
		return nil, imgmgr.Internal(op, errors.New(takeError()))
	}
	return &Source{p: p}, nil
}

// SourceReader reads size bytes from r into C memory and returns a Source
// over them. Reading stops at ctx's end.
func SourceReader(ctx context.Context, r io.Reader, size int64) (*Source, error) {
	const op = "vips.SourceReader"
	if err := started(op); err != nil {
		return nil, imgmgr.Internal(op, err)
	}
	if size <= 0 || size > 1<<34 {
		return nil, imgmgr.Internal(op, fmt.Errorf("bad source size %d", size))
	}
	mem := C.malloc(C.size_t(size))
	if mem == nil {
		return nil, imgmgr.Internal(op, errors.New("out of memory"))
	}
	buf := unsafe.Slice((*byte)(mem), size)
	if _, err := io.ReadFull(ctxReader{ctx, r}, buf); err != nil {
		C.free(mem)
		return nil, imgmgr.Wrap(op, err)
	}
	p := C.imgmgr_source_from_malloc(mem, C.size_t(size)) // owns mem from here
	if p == nil {
		return nil, imgmgr.Internal(op, errors.New(takeError()))
	}
	return &Source{p: p}, nil
}

// Close releases the Source.
func (s *Source) Close() {
	if s != nil && s.p != nil {
		C.g_object_unref(C.gpointer(s.p))
		s.p = nil
	}
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Image is a decoded (lazily evaluated) libvips image. Close it when done;
// operations return new Images and leave their input open.
type Image struct {
	p *C.VipsImage
}

// Close releases the image. Closing twice is harmless.
func (im *Image) Close() {
	if im != nil && im.p != nil {
		C.g_object_unref(C.gpointer(im.p))
		im.p = nil
	}
}

// Width is the image width in pixels.
func (im *Image) Width() int { return int(im.p.Xsize) }

// Height is the height of the whole image: all frames of an animation,
// stacked. PageHeight is one frame's.
func (im *Image) Height() int { return int(im.p.Ysize) }

// PageHeight is one frame's height (Height for a still image).
func (im *Image) PageHeight() int { return int(C.imgmgr_page_height(im.p)) }

// Pages is the number of frames held.
func (im *Image) Pages() int { return max(im.Height()/max(im.PageHeight(), 1), 1) }

// Bands is the number of channels.
func (im *Image) Bands() int { return int(im.p.Bands) }

// HasAlpha reports whether the image has an alpha channel.
func (im *Image) HasAlpha() bool { return C.vips_image_hasalpha(im.p) != 0 }

// Blob returns a copy of a binary metadata field ("exif-data",
// "icc-profile-data", ...), nil when absent.
func (im *Image) Blob(field string) []byte {
	cf := C.CString(field)
	defer C.free(unsafe.Pointer(cf))
	var data unsafe.Pointer
	var n C.size_t
	if C.imgmgr_get_blob(im.p, cf, &data, &n) != 0 || data == nil {
		return nil
	}
	return C.GoBytes(data, C.int(n))
}

// String returns a string metadata field, "" when absent.
func (im *Image) String(field string) string {
	cf := C.CString(field)
	defer C.free(unsafe.Pointer(cf))
	s := C.imgmgr_get_string(im.p, cf)
	if s == nil {
		return ""
	}
	return C.GoString(s)
}

// Point returns the pixel values at (x, y), one per band.
func (im *Image) Point(x, y int) ([]float64, error) {
	v := make([]float64, 8)
	n := C.imgmgr_getpoint(im.p, C.int(x), C.int(y), (*C.double)(unsafe.Pointer(&v[0])), C.int(len(v)))
	if n < 0 {
		return nil, imgmgr.Internal("vips.Point", errors.New(takeError()))
	}
	return v[:min(int(n), len(v))], nil
}

// result wraps an operation's output, or its error as an internal error
// (inputs here were probed and verified at ingest: a failure now is ours).
func result(op string, r C.int, out *C.VipsImage) (*Image, error) {
	if r != 0 {
		return nil, opError(op)
	}
	return &Image{p: out}, nil
}

// opError classifies a failed operation: decoder failures on stored
// originals are still reported as 422 undecodable, anything else internal.
func opError(op string) error {
	return decodeError(op, takeError())
}
