#include "shim.h"
#include "_cgo_export.h"

static void imgmgr_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer forward) {
	if (forward) {
		goVipsLog((char *) (domain ? domain : ""), (int) level, (char *) (msg ? msg : ""));
	}
}

// The loaders we trust. Everything else under VipsForeignLoad stays blocked,
// so libvips' content sniffing can never reach, say, the PDF or FITS loaders.
static const char *allowed_loaders[] = {
	"VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadNsgif",
	"VipsForeignLoadWebp", "VipsForeignLoadHeif", "VipsForeignLoadJxl",
	"VipsForeignLoadTiff",
	// SVG: only ever handed the sanitised SVG that ingest stored (scripts,
	// external references and entities removed), because libvips is only
	// given content that the Go-side sniff named (vips/sniff.go), and
	// ingest refuses SVG before any libvips call unless upload.allow_svg.
	"VipsForeignLoadSvg", NULL,
};

int imgmgr_startup(const char *argv0, int concurrency, int cache_ops, size_t cache_mem, int cache_files, int allow_magick, int forward_log) {
	if (VIPS_INIT(argv0) != 0) {
		return -1;
	}
	vips_leak_set(FALSE);
	vips_concurrency_set(concurrency);
	vips_cache_set_max(cache_ops);
	vips_cache_set_max_mem(cache_mem);
	vips_cache_set_max_files(cache_files);
	vips_operation_block_set("VipsForeignLoad", TRUE);
	for (int i = 0; allowed_loaders[i]; i++) {
		vips_operation_block_set(allowed_loaders[i], FALSE);
	}
	if (allow_magick) {
		vips_operation_block_set("VipsForeignLoadMagick", FALSE);
	}
	g_log_set_handler("VIPS", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL | G_LOG_FLAG_RECURSION,
		imgmgr_log, forward_log ? (gpointer) 1 : NULL);
	return 0;
}

void imgmgr_shutdown(void) {
	vips_shutdown();
}

static void copy_string(VipsImage *im, const char *field, char *dst, size_t n) {
	const char *s = NULL;
	dst[0] = 0;
	if (vips_image_get_typeof(im, field) && vips_image_get_string(im, field, &s) == 0 && s) {
		g_strlcpy(dst, s, n);
	}
}

static void fill_header(VipsImage *im, imgmgr_header *h) {
	h->width = vips_image_get_width(im);
	h->height = vips_image_get_height(im);
	h->pages = vips_image_get_n_pages(im);
	if (h->pages > 1) {
		int ph = vips_image_get_page_height(im);
		if (ph > 0 && ph < h->height) {
			h->height = ph;
		}
	}
	h->alpha = vips_image_hasalpha(im) ? 1 : 0;
	h->orientation = vips_image_get_orientation(im);
	if (h->orientation < 1 || h->orientation > 8) {
		h->orientation = 1;
	}
	copy_string(im, "vips-loader", h->loader, sizeof(h->loader));
	copy_string(im, "heif-compression", h->compression, sizeof(h->compression));
}

// Header-only: loading is lazy, so this reads the header and no pixels.
int imgmgr_probe_file(const char *path, imgmgr_header *h) {
	VipsImage *im = vips_image_new_from_file(path, "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (!im) {
		return -1;
	}
	fill_header(im, h);
	g_object_unref(im);
	return 0;
}

int imgmgr_probe_buffer(const void *buf, size_t len, imgmgr_header *h) {
	VipsImage *im = vips_image_new_from_buffer(buf, len, "", "access", VIPS_ACCESS_SEQUENTIAL, NULL);
	if (!im) {
		return -1;
	}
	fill_header(im, h);
	g_object_unref(im);
	return 0;
}

// Decodes every pixel of the first frame once (shrunk on load where the
// format allows) and fails on truncation or decoder errors.
static int verify_image(VipsImage *thumb) {
	double avg;
	int r = vips_avg(thumb, &avg, NULL);
	g_object_unref(thumb);
	return r;
}

int imgmgr_verify_file(const char *path, int size) {
	VipsImage *out = NULL;
	if (vips_thumbnail(path, &out, size, "height", size, "no_rotate", TRUE,
			"fail_on", VIPS_FAIL_ON_ERROR, NULL) != 0) {
		return -1;
	}
	return verify_image(out);
}

int imgmgr_verify_buffer(const void *buf, size_t len, int size) {
	VipsImage *out = NULL;
	// thumbnail_buffer in libvips 8.14 does not pass its fail_on to the
	// loader; the loader option string does.
	if (vips_thumbnail_buffer((void *) buf, len, &out, size, "height", size, "no_rotate", TRUE,
			"fail_on", VIPS_FAIL_ON_ERROR, "option_string", "fail_on=error", NULL) != 0) {
		return -1;
	}
	return verify_image(out);
}
