package vips

/*
#include "shim.h"
*/
import "C"

import (
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

// Objects counts the libvips objects alive in the process, by kind.
type Objects struct {
	All, Images, Regions, Sources, Operations int
}

// LiveObjects counts the libvips objects alive now (libvips tracks every
// VipsObject it makes), for leak checks: after the last image is closed
// the counts return to what they were before it was opened.
func LiveObjects() Objects {
	var c C.imgmgr_object_counts
	C.imgmgr_live_objects(&c)
	return Objects{All: int(c.objects), Images: int(c.images), Regions: int(c.regions),
		Sources: int(c.sources), Operations: int(c.operations)}
}

// LiveObjectTypes counts the live libvips objects by GType name
// ("VipsImage", "VipsForeignSaveWebpBuffer", ...), to name what leaked.
func LiveObjectTypes() map[string]int {
	a := C.imgmgr_live_object_types()
	defer C.g_ptr_array_free(a, C.TRUE)
	out := map[string]int{}
	for _, p := range unsafe.Slice((**C.char)(unsafe.Pointer(a.pdata)), int(a.len)) {
		out[C.GoString(p)]++
	}
	return out
}
