package vips

/*
#include "shim.h"
*/
import "C"

import (
	"os"
	"unsafe"

	"github.com/imgmgr/imgmgr"
)

// verifySize is the box the decode check shrinks to: small, so the check
// costs about one decode with shrink-on-load, and no full-size buffer.
const verifySize = 64

// VerifyFile decodes the first frame's pixels once (shrunk on load where
// the format allows) and refuses truncated or corrupt data with a
// KindUnprocessable error, code "undecodable". A JPEG whose scan data ends
// early is refused too, even when it ends in a well-formed EOI (see
// jpegTruncated). Call it after ProbeFile and the pixel limits, never on
// unchecked input.
func VerifyFile(path string) error {
	const op = "vips.VerifyFile"
	if err := started(op); err != nil {
		return imgmgr.Internal(op, err)
	}
	if _, err := os.Stat(path); err != nil {
		return imgmgr.Internal(op, err)
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	if C.imgmgr_verify_file(cpath, verifySize) != 0 {
		return decodeError(op, takeError())
	}
	if head, err := readHead(path); err == nil && sniff(head) == "jpeg" {
		if msg := jpegTruncated(path, nil); msg != "" {
			return decodeError(op, "truncated JPEG: "+msg)
		}
	}
	return nil
}

// VerifyBuffer is VerifyFile for an image held in memory.
func VerifyBuffer(b []byte) error {
	const op = "vips.VerifyBuffer"
	if err := started(op); err != nil {
		return imgmgr.Internal(op, err)
	}
	if len(b) == 0 {
		return decodeError(op, "empty buffer")
	}
	if C.imgmgr_verify_buffer(unsafe.Pointer(unsafe.SliceData(b)), C.size_t(len(b)), verifySize) != 0 {
		return decodeError(op, takeError())
	}
	if sniff(b[:min(len(b), sniffLen)]) == "jpeg" {
		if msg := jpegTruncated("", b); msg != "" {
			return decodeError(op, "truncated JPEG: "+msg)
		}
	}
	return nil
}
