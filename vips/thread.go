package vips

/*
#include "shim.h"
*/
import "C"

import "runtime"

// LockThread pins the calling goroutine to its OS thread until the
// returned function is called, which first releases the per-thread state
// libvips keeps for the thread (vips_thread_shutdown) and then unpins.
// A render calls it around its libvips calls, so that every call of one
// pipeline is made from one thread and nothing libvips attached to that
// thread outlives the render: goroutines otherwise hop between OS threads
// between cgo calls.
func LockThread() (unlock func()) {
	runtime.LockOSThread()
	return func() {
		C.vips_thread_shutdown()
		runtime.UnlockOSThread()
	}
}
