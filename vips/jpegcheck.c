// A JPEG integrity check straight over libjpeg, the library libvips
// decodes JPEG with: libvips reports libjpeg's warnings only as text in
// its process-wide error buffer, which concurrent calls share, so it
// cannot tell one decode's "premature end of data" from another's. Here
// each check has its own error manager and sees the warning codes.
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>
#include "jpegcheck.h"

typedef struct {
	struct jpeg_error_mgr pub;
	jmp_buf jmp;
	int truncated;            // a warning said entropy-coded data is missing
	char message[JMSG_LENGTH_MAX]; // the first such warning, or the error
} check_err;

static void check_error_exit(j_common_ptr c) {
	check_err *e = (check_err *) c->err;
	(*c->err->format_message)(c, e->message);
	longjmp(e->jmp, 1);
}

// Warnings that mean the scan data ends before the image does: a marker
// (often an appended EOI) where coefficients should be, the input running
// out, or lost restart markers. Others (extraneous bytes between markers,
// odd JFIF/Adobe segments, inconsistent progression) are benign.
static int truncation_warning(int code) {
	return code == JWRN_HIT_MARKER || code == JWRN_JPEG_EOF || code == JWRN_MUST_RESYNC;
}

static void check_emit(j_common_ptr c, int level) {
	check_err *e = (check_err *) c->err;
	if (level >= 0) {
		return; // trace messages
	}
	c->err->num_warnings++;
	if (truncation_warning(c->err->msg_code) && !e->truncated) {
		e->truncated = 1;
		(*c->err->format_message)(c, e->message);
	}
}

static int check(struct jpeg_decompress_struct *cinfo, check_err *err) {
	jpeg_read_header(cinfo, TRUE);
	// 1/8 scale still entropy-decodes every coefficient, at a fraction of
	// the cost of a full decode.
	cinfo->scale_num = 1;
	cinfo->scale_denom = 8;
	cinfo->dct_method = JDCT_IFAST;
	cinfo->do_fancy_upsampling = FALSE;
	jpeg_start_decompress(cinfo);
	JSAMPARRAY row = (*cinfo->mem->alloc_sarray)((j_common_ptr) cinfo, JPOOL_IMAGE,
		cinfo->output_width * cinfo->output_components, 1);
	while (cinfo->output_scanline < cinfo->output_height && !err->truncated) {
		jpeg_read_scanlines(cinfo, row, 1);
	}
	if (!err->truncated) {
		jpeg_finish_decompress(cinfo);
	}
	return err->truncated ? IMGMGR_JPEG_TRUNCATED : IMGMGR_JPEG_OK;
}

static int run(FILE *f, const unsigned char *buf, size_t len, char *msg, size_t msglen) {
	struct jpeg_decompress_struct cinfo;
	check_err err;
	memset(&err, 0, sizeof(err));
	cinfo.err = jpeg_std_error(&err.pub);
	err.pub.error_exit = check_error_exit;
	err.pub.emit_message = check_emit;
	jpeg_create_decompress(&cinfo);
	int r;
	if (setjmp(err.jmp)) {
		r = IMGMGR_JPEG_ERROR;
	} else {
		if (f) {
			jpeg_stdio_src(&cinfo, f);
		} else {
			jpeg_mem_src(&cinfo, buf, (unsigned long) len);
		}
		r = check(&cinfo, &err);
	}
	jpeg_destroy_decompress(&cinfo);
	snprintf(msg, msglen, "%s", err.message);
	return r;
}

int imgmgr_jpeg_check_file(const char *path, char *msg, size_t msglen) {
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(msg, msglen, "cannot open the file");
		return IMGMGR_JPEG_ERROR;
	}
	int r = run(f, NULL, 0, msg, msglen);
	fclose(f);
	return r;
}

int imgmgr_jpeg_check_buffer(const void *buf, size_t len, char *msg, size_t msglen) {
	return run(NULL, buf, len, msg, msglen);
}
