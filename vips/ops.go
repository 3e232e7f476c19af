package vips

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"unsafe"
)

// Size says which way Thumbnail may resize.
type Size int

// The resize directions of Thumbnail (libvips' VipsSize).
const (
	SizeBoth  Size = C.VIPS_SIZE_BOTH
	SizeUp    Size = C.VIPS_SIZE_UP
	SizeDown  Size = C.VIPS_SIZE_DOWN
	SizeForce Size = C.VIPS_SIZE_FORCE // exactly Width×Height, ignoring aspect
)

// ThumbnailOptions drive Thumbnail. Width and Height are the target box in
// upright (auto-rotated) pixels.
type ThumbnailOptions struct {
	Width, Height int
	Size          Size
	// Animated keeps every frame (loads with n=-1); otherwise only the first.
	Animated bool
	// NoRotate leaves EXIF orientation unapplied.
	NoRotate bool
}

// Thumbnail decodes src shrinking on load (JPEG DCT scaling, WebP/HEIF
// scale), applies EXIF orientation and resizes to fit the box, as libvips'
// thumbnail does. CMYK is converted to sRGB (through its profile, or a
// fallback CMYK profile); other images keep their pixels and profile, for
// TransformICC. Decoding fails on truncated or corrupt data.
func Thumbnail(src *Source, o ThumbnailOptions) (*Image, error) {
	const op = "vips.Thumbnail"
	opts := "fail_on=error"
	if o.Animated {
		opts += ",n=-1"
	}
	copts := C.CString(opts)
	defer C.free(unsafe.Pointer(copts))
	ccmyk := C.CString("cmyk")
	defer C.free(unsafe.Pointer(ccmyk))
	to := C.imgmgr_thumb_opts{
		width: C.int(max(o.Width, 1)), height: C.int(max(o.Height, 1)),
		size: C.int(o.Size), crop: C.VIPS_INTERESTING_NONE,
		no_rotate: cbool(o.NoRotate), import_profile: ccmyk, option_string: copts,
	}
	var out *C.VipsImage
	return result(op, C.imgmgr_thumbnail(src.p, &out, &to), out)
}

// Crop cuts the rectangle out of every frame.
func (im *Image) Crop(left, top, width, height int) (*Image, error) {
	var out *C.VipsImage
	return result("vips.Crop", C.imgmgr_crop(im.p, &out, C.int(left), C.int(top), C.int(width), C.int(height)), out)
}

// SmartCrop cuts width×height around the most interesting part (libvips'
// attention strategy). For still images only. The analysis reads the image
// more than once, so the (already resized) input is computed into memory
// first.
func (im *Image) SmartCrop(width, height int) (*Image, error) {
	var mem *C.VipsImage
	if C.imgmgr_copy_memory(im.p, &mem) != 0 {
		return nil, opError("vips.SmartCrop")
	}
	defer C.g_object_unref(C.gpointer(mem))
	var out *C.VipsImage
	return result("vips.SmartCrop", C.imgmgr_smartcrop(mem, &out, C.int(width), C.int(height)), out)
}

// TransformICC converts pixels from the embedded RGB ICC profile to sRGB.
func (im *Image) TransformICC() (*Image, error) {
	var out *C.VipsImage
	return result("vips.TransformICC", C.imgmgr_icc_to_srgb(im.p, &out), out)
}

// Flatten composes the image over an opaque background colour (0..255).
func (im *Image) Flatten(r, g, b float64) (*Image, error) {
	var out *C.VipsImage
	return result("vips.Flatten", C.imgmgr_flatten(im.p, &out, C.double(r), C.double(g), C.double(b)), out)
}

// ToSRGB converts to 8-bit sRGB, or 8-bit grey for grey images.
func (im *Image) ToSRGB() (*Image, error) {
	var out *C.VipsImage
	return result("vips.ToSRGB", C.imgmgr_to_srgb(im.p, &out), out)
}

// StripMetadata drops EXIF, XMP, IPTC and comments (the ICC profile too
// unless keepICC), and sets exif, when not empty, as the only EXIF block.
func (im *Image) StripMetadata(keepICC bool, exif []byte) (*Image, error) {
	var out *C.VipsImage
	var p unsafe.Pointer
	if len(exif) > 0 {
		p = C.CBytes(exif)
		defer C.free(p)
	}
	return result("vips.StripMetadata", C.imgmgr_strip_metadata(im.p, &out, cbool(keepICC), p, C.size_t(len(exif))), out)
}

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

// Save encodes the image as format: jpeg, png, webp, avif, jxl or gif.
// This is where libvips computes the pixels; when ctx ends first the
// computation is killed and Save returns ctx's error.
func (im *Image) Save(ctx context.Context, format string, o SaveOptions) ([]byte, error) {
	const op = "vips.Save"
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	done, watched := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(watched)
		select {
		case <-ctx.Done():
			C.vips_image_set_kill(im.p, 1)
		case <-done:
		}
	}()
	defer func() { close(done); <-watched }()
	b, err := im.save(format, o)
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return b, err
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

// Fields lists the image's metadata field names.
func (im *Image) Fields() []string {
	names := C.vips_image_get_fields(im.p)
	if names == nil {
		return nil
	}
	defer C.g_strfreev(names)
	var out []string
	for p := names; *p != nil; p = (**C.gchar)(unsafe.Add(unsafe.Pointer(p), unsafe.Sizeof(*p))) {
		out = append(out, C.GoString((*C.char)(*p)))
	}
	return out
}

// Average is the mean of all pixel values; it forces every pixel to be
// computed.
func (im *Image) Average() (float64, error) {
	var v C.double
	if C.imgmgr_avg(im.p, &v) != 0 {
		return 0, opError("vips.Average")
	}
	return float64(v), nil
}

// Pixels computes the image and returns its pixels, row by row, Bands()
// bytes per pixel (for 8-bit images). For tests and small images.
func (im *Image) Pixels() ([]byte, error) {
	var n C.size_t
	p := C.imgmgr_pixels(im.p, &n)
	if p == nil {
		return nil, opError("vips.Pixels")
	}
	defer C.g_free(C.gpointer(p))
	return C.GoBytes(p, C.int(n)), nil
}

// LiveImages counts the libvips images alive in the process, for leak
// tests.
func LiveImages() int { return int(C.imgmgr_live_images()) }
