// Small C helpers over libvips: variadic calls that cgo cannot make, and
// whole operations that must finish before returning to Go (so a Go buffer
// handed to libvips is never kept after the call).
#ifndef IMGMGR_VIPS_SHIM_H
#define IMGMGR_VIPS_SHIM_H

#include <stdlib.h>
#include <vips/vips.h>

typedef struct {
	int width;       // one frame
	int height;      // one frame
	int pages;       // frames; 1 when not paged
	int alpha;
	int orientation; // EXIF 1..8, 1 when absent
	char loader[48]; // vips-loader, e.g. "jpegload", "heifload_buffer"
	char compression[16]; // heif-compression: "av1", "hevc"; "" otherwise
} imgmgr_header;

int imgmgr_startup(const char *argv0, int concurrency, int cache_ops, size_t cache_mem, int cache_files, int allow_magick, int forward_log);
void imgmgr_shutdown(void);

int imgmgr_probe_file(const char *path, imgmgr_header *h);
int imgmgr_probe_buffer(const void *buf, size_t len, imgmgr_header *h);

int imgmgr_verify_file(const char *path, int size);
int imgmgr_verify_buffer(const void *buf, size_t len, int size);


// ---- the variant pipeline's operations (ops.c) ----

typedef struct {
	int width, height;  // target box (after rotation)
	int size;           // VipsSize: both, up, down, force
	int crop;           // VipsInteresting: none, centre, attention
	int no_rotate;
	int linear;
	const char *import_profile; // fallback when the image carries none (CMYK)
	const char *export_profile; // NULL = sRGB
	const char *option_string;  // loader options, e.g. "fail_on=error,n=-1"
} imgmgr_thumb_opts;

typedef struct {
	int quality;        // 1..100
	int strip;          // drop all metadata
	int interlace;      // progressive JPEG, interlaced PNG/GIF
	int optimize;       // JPEG optimised Huffman tables
	int palette;        // PNG palette quantisation
	int effort;         // WebP/AVIF/JXL/GIF effort, -1 = libvips default
	int lossless;       // WebP/JXL lossless
	int subsample_off;  // JPEG/AVIF: no chroma subsampling
} imgmgr_save_opts;

VipsSource *imgmgr_source_from_malloc(void *data, size_t len);
int imgmgr_thumbnail(VipsSource *src, VipsImage **out, imgmgr_thumb_opts *o);

int imgmgr_crop(VipsImage *in, VipsImage **out, int left, int top, int width, int height);
int imgmgr_smartcrop(VipsImage *in, VipsImage **out, int width, int height);
int imgmgr_icc_to_srgb(VipsImage *in, VipsImage **out);
int imgmgr_flatten(VipsImage *in, VipsImage **out, double r, double g, double b);
int imgmgr_to_srgb(VipsImage *in, VipsImage **out);
int imgmgr_strip_metadata(VipsImage *in, VipsImage **out, int keep_icc, const void *exif, size_t exif_len);
int imgmgr_save(VipsImage *in, const char *format, imgmgr_save_opts *o, void **buf, size_t *len);
int imgmgr_page_height(VipsImage *in);
int imgmgr_get_blob(VipsImage *in, const char *field, const void **data, size_t *len);
const char *imgmgr_get_string(VipsImage *in, const char *field);
void *imgmgr_pixels(VipsImage *in, size_t *len);
int imgmgr_copy_memory(VipsImage *in, VipsImage **out);
int imgmgr_live_images(void);

typedef struct {
	int objects;    // every VipsObject
	int images;
	int regions;
	int sources;
	int operations;
} imgmgr_object_counts;
void imgmgr_live_objects(imgmgr_object_counts *c);
GPtrArray *imgmgr_live_object_types(void);
int imgmgr_avg(VipsImage *in, double *out);
int imgmgr_getpoint(VipsImage *in, int x, int y, double *vec, int n);

#endif
