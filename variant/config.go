package variant

import (
	"errors"
	"fmt"
	"time"
)

// RenderConfig tunes the pipeline. Zero values mean the defaults; call
// Validate (which fills them) before Render.
type RenderConfig struct {
	// Quality per format (1..100). Defaults: jpeg 80, webp 79, avif 63,
	// jxl 77, png 100 (palette quantisation quality).
	Quality map[string]int
	// Effort per format; defaults tuned on a 2-core machine: avif 2 (an
	// 800 px AVIF in well under half a second; libvips' default 4 takes
	// seconds), webp 4, jxl 4.
	Effort map[string]int
	// PNGPalette quantises PNG output to a palette (smaller, lossy).
	PNGPalette bool
	// Background is the colour alpha is flattened onto for JPEG; default white.
	Background *[3]uint8
	// MaxResultPixels bounds a result (all frames); default 50 000 000.
	MaxResultPixels int64
	// FastEncodePixels: outputs with more pixels than this (all frames)
	// are encoded at the encoder's lowest effort whatever Effort says.
	// AVIF and WebP encodes cannot be interrupted, and at effort 2 a
	// 49 MP AVIF costs over 20 CPU seconds; at the lowest effort about a
	// third of that. Default 2 000 000 (about 1630×1230).
	FastEncodePixels int64
	// MaxFrames bounds animations kept animated; default 1000.
	MaxFrames int
	// Trace, when set, is told each step's duration.
	Trace func(step string, d time.Duration)

	validated bool
}

// DefaultQuality is the starting quality per format.
var DefaultQuality = map[string]int{"jpeg": 80, "webp": 79, "avif": 63, "jxl": 77, "png": 100, "gif": 100}

var defaultEffort = map[string]int{"avif": 2, "webp": 4, "jxl": 4}

// Validate fills defaults and checks values.
func (c *RenderConfig) Validate() error {
	c.Quality = merge(DefaultQuality, c.Quality)
	c.Effort = merge(defaultEffort, c.Effort)
	for f, q := range c.Quality {
		if _, ok := DefaultQuality[f]; !ok {
			return fmt.Errorf("variant: quality for unknown format %q", f)
		}
		if q < 1 || q > 100 {
			return fmt.Errorf("variant: quality %d for %s is outside 1..100", q, f)
		}
	}
	for f, e := range c.Effort {
		if e < 0 || e > 10 {
			return fmt.Errorf("variant: effort %d for %s is outside 0..10", e, f)
		}
	}
	if c.Background == nil {
		c.Background = &[3]uint8{255, 255, 255}
	}
	if c.MaxResultPixels == 0 {
		c.MaxResultPixels = 50_000_000
	}
	if c.FastEncodePixels == 0 {
		c.FastEncodePixels = 2_000_000
	}
	if c.MaxFrames == 0 {
		c.MaxFrames = 1000
	}
	if c.MaxResultPixels < 0 || c.MaxFrames < 0 || c.FastEncodePixels < 0 {
		return errors.New("variant: limits must be positive")
	}
	c.validated = true
	return nil
}

func merge(def, over map[string]int) map[string]int {
	m := make(map[string]int, len(def))
	for k, v := range def {
		m[k] = v
	}
	for k, v := range over {
		m[k] = v
	}
	return m
}
