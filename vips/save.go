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
}

// wholeImageEncoder reports the formats whose libvips saver gathers every
// pixel before it encodes (libwebp and libheif take a whole frame): their
// pixels are computed into memory first, see Save.
func wholeImageEncoder(format string) bool {
	return format == "webp" || format == "avif" || format == "jxl"
}

// Save encodes the image as format: jpeg, png, webp, avif, jxl or gif.
// This is where libvips computes the pixels; when ctx ends first the
// computation is killed and Save returns ctx's error.
//
// WebP, AVIF and JPEG XL are encoded from an in-memory copy of the
// pixels: libvips 8.14's webpsave keeps a reference to its input when the
// save fails mid-pipeline (a decoder error, a kill), which leaked the
// whole pipeline (the loader, its source and every operation) on each
// failed or killed save. From memory the saver cannot fail that way.
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
	defer mem.Close()
	return mem.save(format, o)
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

func (im *Image) save(format string, o SaveOptions) ([]byte, error) {
	const op = "vips.Save"
	cf := C.CString(format)
	defer C.free(unsafe.Pointer(cf))
	so := C.imgmgr_save_opts{
		quality: C.int(min(max(o.Quality, 1), 100)), strip: cbool(o.Strip), interlace: cbool(o.Interlace),
		optimize: cbool(o.Optimize), palette: cbool(o.Palette), effort: -1,
		lossless: cbool(o.Lossless), subsample_off: cbool(o.NoSubsampling),
	}
	if o.Effort > 0 {
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
