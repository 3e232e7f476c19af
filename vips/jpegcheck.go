package vips

/*
#cgo pkg-config: libjpeg
#include <stdlib.h>
#include "jpegcheck.h"
*/
import "C"

import (
	"unsafe"
)

// jpegTruncated reports libjpeg's message when the JPEG's scan data ends
// before its image does ("premature end of data segment": the bytes stop,
// or a marker such as an appended EOI comes where coefficients should),
// and "" when it is whole. libvips' fail_on=error lets such files through
// (libjpeg only warns, and fills the rest grey), and fail_on=warning
// would also refuse the benign warnings real cameras and editors cause.
// Other decode failures are left to libvips' own check.
func jpegTruncated(path string, b []byte) string {
	msg := make([]byte, 200)
	cmsg := (*C.char)(unsafe.Pointer(&msg[0]))
	var r C.int
	if b != nil {
		r = C.imgmgr_jpeg_check_buffer(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), cmsg, C.size_t(len(msg)))
	} else {
		cpath := C.CString(path)
		defer C.free(unsafe.Pointer(cpath))
		r = C.imgmgr_jpeg_check_file(cpath, cmsg, C.size_t(len(msg)))
	}
	if r != C.IMGMGR_JPEG_TRUNCATED {
		return ""
	}
	return C.GoString(cmsg)
}
