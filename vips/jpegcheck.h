#ifndef IMGMGR_JPEGCHECK_H
#define IMGMGR_JPEGCHECK_H
#include <stddef.h>

enum { IMGMGR_JPEG_OK = 0, IMGMGR_JPEG_TRUNCATED = 1, IMGMGR_JPEG_ERROR = -1 };

// Decode the JPEG at path (or in buf) at 1/8 scale and report whether its
// scan data ends early; msg gets libjpeg's message when it does or when
// decoding fails. buf is used only during the call.
int imgmgr_jpeg_check_file(const char *path, char *msg, size_t msglen);
int imgmgr_jpeg_check_buffer(const void *buf, size_t len, char *msg, size_t msglen);
#endif
