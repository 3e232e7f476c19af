// Package vips is the one cgo package: it starts and stops libvips and wraps
// the few libvips calls imgmgr needs (header probe, decode check, and the
// thumbnail/transform/save operations the variant pipeline uses).
//
// It is a thin wrapper over the libvips C API rather than a general binding:
// every call sets the options imgmgr relies on (fail_on, access mode,
// shrink-on-load, saver options) explicitly, and only trusted loaders are
// enabled (JPEG, PNG, GIF, WebP, HEIF/AVIF, JPEG XL, TIFF, and BMP through
// ImageMagick unless disabled). libvips keeps process-wide state, so Startup
// is the one place in the project with package-level state.
package vips

/*
#cgo pkg-config: vips
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"unsafe"
)

// Config tunes libvips. Zero values mean the defaults.
type Config struct {
	// Concurrency is libvips' worker threads per image pipeline. Default 1:
	// parallelism comes from rendering several images at once, which gives
	// better throughput than splitting each image across threads.
	Concurrency int
	// CacheOperations, CacheMemory (bytes) and CacheFiles size libvips'
	// operation cache. Default 0 (off): imgmgr caches whole variants itself,
	// and the operation cache only holds memory. Negative is invalid.
	CacheOperations int
	CacheMemory     int64
	CacheFiles      int
	// DisableBMP keeps ImageMagick's loader blocked; BMP is then refused.
	// ImageMagick is libvips' only BMP loader and a large attack surface;
	// the caller's magic-byte check means only files starting "BM" reach it.
	DisableBMP bool
	// Logger receives libvips' warnings at debug level. Nil discards them.
	Logger *slog.Logger
}

// Validate reports a bad value.
func (c Config) Validate() error {
	switch {
	case c.Concurrency < 0:
		return errors.New("vips: concurrency must not be negative")
	case c.CacheOperations < 0, c.CacheMemory < 0, c.CacheFiles < 0:
		return errors.New("vips: cache sizes must not be negative")
	}
	return nil
}

var state struct {
	sync.Mutex
	started bool
	stopped bool
	cfg     Config
	logger  *slog.Logger
}

// Startup initialises libvips once per process. Later calls do nothing and
// return nil (the first call's config stays). After Shutdown libvips cannot
// be started again.
func Startup(cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	state.Lock()
	defer state.Unlock()
	switch {
	case state.started:
		return nil
	case state.stopped:
		return errors.New("vips: libvips was shut down and cannot be restarted")
	}
	conc := cfg.Concurrency
	if conc == 0 {
		conc = 1
	}
	argv0 := C.CString("imgmgr")
	defer C.free(unsafe.Pointer(argv0))
	state.logger = cfg.Logger
	r := C.imgmgr_startup(argv0, C.int(conc), C.int(cfg.CacheOperations), C.size_t(cfg.CacheMemory),
		C.int(cfg.CacheFiles), cbool(!cfg.DisableBMP), cbool(cfg.Logger != nil))
	if r != 0 {
		return fmt.Errorf("vips: start-up failed: %s", takeError())
	}
	state.started, state.cfg = true, cfg
	return nil
}

// Shutdown releases libvips. Call it once, after the last use.
func Shutdown() {
	state.Lock()
	defer state.Unlock()
	if state.started && !state.stopped {
		C.imgmgr_shutdown()
		state.stopped = true
	}
}

// Version is libvips' version, e.g. "8.14.1".
func Version() string {
	return fmt.Sprintf("%d.%d.%d", int(C.vips_version(0)), int(C.vips_version(1)), int(C.vips_version(2)))
}

// started fails when Startup has not run (a programming error).
func started(op string) error {
	state.Lock()
	ok := state.started && !state.stopped
	state.Unlock()
	if !ok {
		return fmt.Errorf("%s: libvips is not started", op)
	}
	return nil
}

//export goVipsLog
func goVipsLog(domain *C.char, level C.int, msg *C.char) {
	if l := state.logger; l != nil {
		l.Debug("libvips", "domain", C.GoString(domain), "level", int(level), "message", C.GoString(msg))
	}
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// takeError returns and clears libvips' error buffer. The buffer is shared
// by all threads, so under concurrency it may hold other calls' messages
// too: use it for logs and coarse classification only.
func takeError() string {
	s := C.vips_error_buffer_copy()
	if s == nil {
		return "unknown libvips error"
	}
	defer C.g_free(C.gpointer(s))
	return C.GoString(s)
}
