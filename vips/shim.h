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

#endif
