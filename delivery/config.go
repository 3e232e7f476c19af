package delivery

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/imgmgr/imgmgr/variant"
)

// Config configures variant delivery. Zero values mean the defaults.
type Config struct {
	Keys                 []variant.Key     // signing key/salt pairs (hex); the first signs, all verify
	SignatureSize        int               // bytes of HMAC kept; default 32
	AllowUnsignedPresets bool              // /img/_/pr:NAME/{id} for public images
	Presets              map[string]string // name -> options, e.g. "thumb": "rs:fill:320:320"
	DefaultPreset        string            // applied before every URL's own options; "" = none
	EagerPresets         []string          // rendered in the background after an upload
	FormatOrder          []string          // negotiation preference; default avif, webp
	PathPrefix           string            // default "/img/"
	PrivateTTL           time.Duration     // expiry given to private images' URLs signed without one; default 1h
	PrivateMaxTTL        time.Duration     // longest expiry of a private image's URL (longer: 400 expires_in_too_long); default 7 days
	TagHeader            string            // response header of cache tags (img-{id},imgmgr), e.g. Cache-Tag; "" = none

	CacheMaxBytes int64 // variant cache cap, least recently used evicted; default 10 GiB; < 0 = no cap
	CacheDisabled bool  // render every request and store nothing (benchmarks)

	RenderConcurrency int           // renders at once; default the number of cores
	RenderQueue       int           // renders waiting for a slot before 503; default 64
	RenderTimeout     time.Duration // per render; default 30s
	RetryAfter        time.Duration // told to clients on 503; default 1s

	Render variant.RenderConfig // quality, effort, limits
}

// Validate fills defaults and checks values, naming the config key.
func (c *Config) Validate() error {
	if len(c.Keys) == 0 {
		return errors.New("delivery.keys: at least one key/salt pair is required")
	}
	if c.PathPrefix == "" {
		c.PathPrefix = "/img/"
	}
	if c.PrivateTTL == 0 {
		c.PrivateTTL = time.Hour
	}
	if c.PrivateMaxTTL == 0 {
		c.PrivateMaxTTL = variant.DefaultPrivateMaxTTL
	}
	if c.CacheMaxBytes == 0 {
		c.CacheMaxBytes = 10 << 30
	}
	if c.RenderConcurrency == 0 {
		c.RenderConcurrency = runtime.NumCPU()
	}
	if c.RenderQueue == 0 {
		c.RenderQueue = 64
	}
	if c.RenderTimeout == 0 {
		c.RenderTimeout = 30 * time.Second
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = time.Second
	}
	if len(c.FormatOrder) == 0 {
		c.FormatOrder = variant.DefaultFormatOrder
	}
	switch {
	case c.RenderConcurrency < 0:
		return errors.New("delivery.render_concurrency: must be positive")
	case c.RenderQueue < 0:
		return errors.New("delivery.render_queue: must be positive")
	case c.RenderTimeout < 0 || c.RetryAfter < 0 || c.PrivateTTL < 0:
		return errors.New("delivery.render_timeout: must be positive")
	case c.PrivateMaxTTL < 0 || c.PrivateTTL > c.PrivateMaxTTL:
		return errors.New("delivery.private_max_ttl: must be positive and at least delivery.private_ttl")
	}
	for _, f := range c.FormatOrder {
		if _, err := variant.ParseFormat(f); err != nil {
			return fmt.Errorf("delivery.format_order: unknown format %q", f)
		}
	}
	presets, err := variant.ParsePresets(c.Presets)
	if err != nil {
		return fmt.Errorf("delivery.presets: %w", err)
	}
	for _, p := range append([]string{c.DefaultPreset}, c.EagerPresets...) {
		if _, ok := presets[p]; p != "" && !ok {
			return fmt.Errorf("delivery: preset %q is not defined in delivery.presets", p)
		}
	}
	return c.Render.Validate()
}
