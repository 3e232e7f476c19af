package vips

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"unsafe"
)

// SaveOptions tune an encoder. Zero values pick libvips' defaults where
// noted.
type SaveOptions struct {
	Quality       int  // 1..100
	Strip         bool // drop every metadata block, ICC profile included
	Interlace     bool // progressive JPEG, interlaced PNG and GIF
	Optimize      bool // JPEG optimised Huffman coding
	Palette       bool // PNG palette quantisation
	Effort        int  // WebP 0..6, AVIF 0..9, JXL 1..9, PNG/GIF 1..10; 0 = a tuned default
	Lossless      bool // WebP and JPEG XL
	NoSubsampling bool // JPEG and AVIF: keep full chroma resolution
	// Fastest overrides Effort with the encoder's lowest effort (WebP and
	// AVIF 0, the others 1), for outputs too large to encode carefully.
	Fastest bool
}

// wholeImageEncoder reports the formats whose libvips saver gathers every
// pixel before it encodes (libwebp and libheif take a whole frame): their
// pixels are computed into memory first, see Save.
func wholeImageEncoder(format string) bool {
	return format == "webp" || format == "avif" || format == "jxl"
}

// Save encodes the image as format: jpeg, png, webp, avif, jxl or gif.
// This is where libvips computes the pixels. Save returns ctx's error as
// soon as ctx ends:
//
//   - while pixels are computed, the computation is killed (libvips
//     checks the kill flag between tiles);
//   - WebP, AVIF and JPEG XL are encoded from an in-memory copy of the
//     pixels by a goroutine that owns that copy. The encoders of libvips
//     8.14 cannot be interrupted, so when ctx ends during the encode Save
//     returns at once and the encode runs to its end in the background,
//     holding its own reference (nothing it reads is freed under it), and
//     its result is dropped. Callers bound that work with the encoder's
//     effort.
//
// Encoding from memory also keeps libvips 8.14's webpsave from failing
// mid-pipeline, which leaked a reference to the whole pipeline (the
// loader, its source and every operation) on each failed or killed save.
func (im *Image) Save(ctx context.Context, format string, o SaveOptions) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !wholeImageEncoder(format) {
		var b []byte
		err := im.killable(ctx, func() error {
			var err error
			b, err = im.save(format, o)
			return err
		})
		return b, err
	}
	mem, err := im.memory(ctx)
	if err != nil {
		return nil, err
	}
	return mem.saveDetached(ctx, format, o)
}

// killable runs compute, which makes libvips evaluate im, and kills that
// evaluation when ctx ends first; it then returns ctx's error. The
// watcher is gone when killable returns, so im may be closed after.
func (im *Image) killable(ctx context.Context, compute func() error) error {
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			C.vips_image_set_kill(im.p, 1)
		case <-done:
		}
	}()
	err := compute()
	close(done)
	<-watched
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// memory computes the image into a new in-memory image that does not
// reference im's pipeline (libvips breaks the links after the copy).
func (im *Image) memory(ctx context.Context) (*Image, error) {
	var out *C.VipsImage
	err := im.killable(ctx, func() error {
		if C.imgmgr_copy_memory(im.p, &out) != 0 {
			return opError("vips.Save")
		}
		return nil
	})
	if err != nil {
		if out != nil {
			C.g_object_unref(C.gpointer(out))
		}
		return nil, err
	}
	return &Image{p: out}, nil
}

type saved struct {
	b   []byte
	err error
}

// saveDetached encodes mem, which it owns and closes, in a goroutine of
// its own, and returns when the encode ends or ctx does.
func (mem *Image) saveDetached(ctx context.Context, format string, o SaveOptions) ([]byte, error) {
	res := make(chan saved, 1) // buffered: an abandoned encode never blocks
	go func() {
		defer mem.Close()
		defer LockThread()()
		b, err := mem.save(format, o)
		res <- saved{b, err}
	}()
	select {
	case s := <-res:
		return s.b, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (im *Image) save(format string, o SaveOptions) ([]byte, error) {
	const op = "vips.Save"
	cf := C.CString(format)
	defer C.free(unsafe.Pointer(cf))
	so := C.imgmgr_save_opts{
		quality: C.int(min(max(o.Quality, 1), 100)), strip: cbool(o.Strip), interlace: cbool(o.Interlace),
		optimize: cbool(o.Optimize), palette: cbool(o.Palette), effort: -1,
		lossless: cbool(o.Lossless), subsample_off: cbool(o.NoSubsampling),
	}
	switch {
	case o.Fastest && (format == "webp" || format == "avif"):
		so.effort = 0
	case o.Fastest:
		so.effort = 1
	case o.Effort > 0:
		so.effort = C.int(o.Effort)
	}
	var buf unsafe.Pointer
	var n C.size_t
	if C.imgmgr_save(im.p, cf, &so, &buf, &n) != 0 {
		return nil, opError(op)
	}
	defer C.g_free(C.gpointer(buf))
	return C.GoBytes(buf, C.int(n)), nil
}
