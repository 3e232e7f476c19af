#include <string.h>
#include "shim.h"

static int free_malloc(void *data, void *unused) {
	free(data);
	return 0;
}

// A source over a malloc'd buffer that libvips frees when the last image
// made from it is gone: Go never has to outlive libvips' lazy reads.
VipsSource *imgmgr_source_from_malloc(void *data, size_t len) {
	VipsBlob *blob = vips_blob_new((VipsCallbackFn) free_malloc, data, len);
	VipsSource *src = vips_source_new_from_blob(blob);
	vips_area_unref(VIPS_AREA(blob));
	return src;
}

int imgmgr_thumbnail(VipsSource *src, VipsImage **out, imgmgr_thumb_opts *o) {
	return vips_thumbnail_source(src, out, o->width,
		"height", o->height,
		"size", o->size,
		"crop", o->crop,
		"no_rotate", o->no_rotate,
		"linear", o->linear,
		"import_profile", o->import_profile,
		"export_profile", o->export_profile,
		"option_string", o->option_string,
		NULL);
}

int imgmgr_page_height(VipsImage *in) {
	return vips_image_get_page_height(in);
}

// imgmgr_crop crops every frame of an animation (frames are stacked
// vertically, page-height apart) to the same rectangle.
int imgmgr_crop(VipsImage *in, VipsImage **out, int left, int top, int width, int height) {
	int ph = vips_image_get_page_height(in);
	int pages = in->Ysize / ph;
	if (pages <= 1) {
		return vips_extract_area(in, out, left, top, width, height, NULL);
	}
	VipsImage **frames = g_new0(VipsImage *, pages);
	int r = 0;
	for (int i = 0; i < pages && r == 0; i++) {
		r = vips_extract_area(in, &frames[i], left, top + i * ph, width, height, NULL);
	}
	VipsImage *joined = NULL;
	if (r == 0) {
		r = vips_arrayjoin(frames, &joined, pages, "across", 1, NULL);
	}
	for (int i = 0; i < pages; i++) {
		if (frames[i]) {
			g_object_unref(frames[i]);
		}
	}
	g_free(frames);
	if (r != 0) {
		return r;
	}
	r = vips_copy(joined, out, NULL);
	g_object_unref(joined);
	if (r == 0) {
		vips_image_set_int(*out, VIPS_META_PAGE_HEIGHT, height);
	}
	return r;
}

int imgmgr_smartcrop(VipsImage *in, VipsImage **out, int width, int height) {
	return vips_smartcrop(in, out, width, height, "interesting", VIPS_INTERESTING_ATTENTION, NULL);
}

int imgmgr_icc_to_srgb(VipsImage *in, VipsImage **out) {
	return vips_icc_transform(in, out, "srgb", "embedded", TRUE, "intent", VIPS_INTENT_RELATIVE, NULL);
}

int imgmgr_flatten(VipsImage *in, VipsImage **out, double r, double g, double b) {
	double bg[3] = {r, g, b};
	VipsArrayDouble *a = vips_array_double_new(bg, 3);
	int ret = vips_flatten(in, out, "background", a, NULL);
	vips_area_unref(VIPS_AREA(a));
	return ret;
}

// imgmgr_to_srgb leaves 8-bit sRGB (or 8-bit grey for grey images) whatever
// came in: 16-bit, CMYK without a profile, Lab, ...
int imgmgr_to_srgb(VipsImage *in, VipsImage **out) {
	VipsInterpretation want = VIPS_INTERPRETATION_sRGB;
	if (in->Type == VIPS_INTERPRETATION_B_W || in->Type == VIPS_INTERPRETATION_GREY16) {
		want = VIPS_INTERPRETATION_B_W;
	}
	if (in->Type == want && in->BandFmt == VIPS_FORMAT_UCHAR) {
		return vips_copy(in, out, NULL);
	}
	VipsImage *t = NULL;
	if (vips_colourspace(in, &t, want, NULL) != 0) {
		return -1;
	}
	if (t->BandFmt == VIPS_FORMAT_UCHAR) {
		*out = t;
		return 0;
	}
	int r = vips_cast(t, out, VIPS_FORMAT_UCHAR, NULL);
	g_object_unref(t);
	return r;
}

static void *collect_field(VipsImage *im, const char *name, GValue *value, void *a) {
	GPtrArray *names = (GPtrArray *) a;
	g_ptr_array_add(names, g_strdup(name));
	return NULL;
}

static gboolean is_metadata(const char *name, int keep_icc) {
	if (strcmp(name, VIPS_META_ICC_NAME) == 0) {
		return !keep_icc;
	}
	return g_str_has_prefix(name, "exif-") || g_str_has_prefix(name, "xmp-") ||
		g_str_has_prefix(name, "iptc-") || g_str_has_prefix(name, "photoshop-") ||
		g_str_has_prefix(name, "png-comment-") || g_str_has_prefix(name, "gif-comment") ||
		g_str_has_prefix(name, "heif-") || strcmp(name, "orientation") == 0 ||
		strcmp(name, "xmp-data") == 0 || strcmp(name, "iptc-data") == 0 ||
		strcmp(name, "comment") == 0 || strcmp(name, "jpeg-thumbnail-data") == 0;
}

// imgmgr_strip_metadata copies in without EXIF, XMP, IPTC, comments (and
// the ICC profile unless keep_icc), then attaches exif (if any) as the only
// EXIF block: the saver writes exactly that.
int imgmgr_strip_metadata(VipsImage *in, VipsImage **out, int keep_icc, const void *exif, size_t exif_len) {
	if (vips_copy(in, out, NULL) != 0) {
		return -1;
	}
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	vips_image_map(*out, collect_field, names);
	for (guint i = 0; i < names->len; i++) {
		const char *name = g_ptr_array_index(names, i);
		if (is_metadata(name, keep_icc)) {
			vips_image_remove(*out, name);
		}
	}
	g_ptr_array_free(names, TRUE);
	if (exif && exif_len > 0) {
		vips_image_set_blob_copy(*out, VIPS_META_EXIF_NAME, exif, exif_len);
	}
	return 0;
}

int imgmgr_save(VipsImage *in, const char *format, imgmgr_save_opts *o, void **buf, size_t *len) {
	if (strcmp(format, "jpeg") == 0) {
		return vips_jpegsave_buffer(in, buf, len, "Q", o->quality, "strip", o->strip,
			"interlace", o->interlace, "optimize_coding", o->optimize,
			"subsample_mode", o->subsample_off ? VIPS_FOREIGN_SUBSAMPLE_OFF : VIPS_FOREIGN_SUBSAMPLE_AUTO,
			NULL);
	}
	if (strcmp(format, "png") == 0) {
		return vips_pngsave_buffer(in, buf, len, "strip", o->strip, "interlace", o->interlace,
			"palette", o->palette, "Q", o->quality, "compression", 6,
			"effort", o->effort < 0 ? 7 : o->effort, NULL);
	}
	if (strcmp(format, "webp") == 0) {
		return vips_webpsave_buffer(in, buf, len, "Q", o->quality, "strip", o->strip,
			"lossless", o->lossless, "effort", o->effort < 0 ? 4 : o->effort, NULL);
	}
	if (strcmp(format, "avif") == 0) {
		return vips_heifsave_buffer(in, buf, len, "Q", o->quality, "strip", o->strip,
			"compression", VIPS_FOREIGN_HEIF_COMPRESSION_AV1,
			"effort", o->effort < 0 ? 4 : o->effort,
			"subsample_mode", o->subsample_off ? VIPS_FOREIGN_SUBSAMPLE_OFF : VIPS_FOREIGN_SUBSAMPLE_AUTO,
			NULL);
	}
	if (strcmp(format, "jxl") == 0) {
		return vips_jxlsave_buffer(in, buf, len, "Q", o->quality, "strip", o->strip,
			"lossless", o->lossless, "effort", o->effort < 0 ? 7 : o->effort, NULL);
	}
	if (strcmp(format, "gif") == 0) {
		return vips_gifsave_buffer(in, buf, len, "strip", o->strip, "interlace", o->interlace,
			"effort", o->effort < 0 ? 7 : o->effort, NULL);
	}
	vips_error("imgmgr", "no saver for format %s", format);
	return -1;
}

int imgmgr_get_blob(VipsImage *in, const char *field, const void **data, size_t *len) {
	if (!vips_image_get_typeof(in, field)) {
		return -1;
	}
	return vips_image_get_blob(in, field, data, len);
}

const char *imgmgr_get_string(VipsImage *in, const char *field) {
	const char *s = NULL;
	if (!vips_image_get_typeof(in, field) || vips_image_get_string(in, field, &s) != 0) {
		return NULL;
	}
	return s;
}

int imgmgr_avg(VipsImage *in, double *out) {
	return vips_avg(in, out, NULL);
}

int imgmgr_getpoint(VipsImage *in, int x, int y, double *vec, int n) {
	double *v = NULL;
	int got = 0;
	if (vips_getpoint(in, &v, &got, x, y, NULL) != 0) {
		return -1;
	}
	for (int i = 0; i < n && i < got; i++) {
		vec[i] = v[i];
	}
	g_free(v);
	return got;
}

void *imgmgr_pixels(VipsImage *in, size_t *len) {
	return vips_image_write_to_memory(in, len);
}

int imgmgr_copy_memory(VipsImage *in, VipsImage **out) {
	VipsImage *m = vips_image_copy_memory(in);
	if (!m) {
		return -1;
	}
	*out = m;
	return 0;
}

static void *count_image(void *object, void *a, void *b) {
	if (VIPS_IS_IMAGE(object)) {
		(*(int *) a)++;
	}
	return NULL;
}

int imgmgr_live_images(void) {
	int n = 0;
	vips_object_map((VipsSListMap2Fn) count_image, &n, NULL);
	return n;
}

static void *count_object(void *object, void *a, void *b) {
	imgmgr_object_counts *c = (imgmgr_object_counts *) a;
	c->objects++;
	if (VIPS_IS_IMAGE(object)) {
		c->images++;
	} else if (VIPS_IS_REGION(object)) {
		c->regions++;
	} else if (VIPS_IS_SOURCE(object)) {
		c->sources++;
	} else if (VIPS_IS_OPERATION(object)) {
		c->operations++;
	}
	return NULL;
}

void imgmgr_live_objects(imgmgr_object_counts *c) {
	memset(c, 0, sizeof(*c));
	vips_object_map((VipsSListMap2Fn) count_object, c, NULL);
}

static void *name_object(void *object, void *a, void *b) {
	GPtrArray *names = (GPtrArray *) a;
	g_ptr_array_add(names, (gpointer) G_OBJECT_TYPE_NAME(object));
	return NULL;
}

// imgmgr_live_object_types returns the type name of every live VipsObject
// (static strings, in an array the caller frees with g_ptr_array_free).
GPtrArray *imgmgr_live_object_types(void) {
	GPtrArray *names = g_ptr_array_new();
	vips_object_map((VipsSListMap2Fn) name_object, names, NULL);
	return names;
}
