package tus

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Config configures the tus endpoint. Zero fields take the defaults.
type Config struct {
	// BasePath is the URL path of the creation endpoint; upload URLs are
	// BasePath + id. Default "/api/v1/uploads/".
	BasePath string
	// PublicURL is the absolute scheme://host[:port] put in Location
	// headers; "" derives it from the request (see TrustedProxies).
	PublicURL string
	// TrustedProxies are the peers whose X-Forwarded-Proto and
	// X-Forwarded-Host are believed when PublicURL is empty.
	TrustedProxies []netip.Prefix
	// MaxSize is the largest upload in bytes (Tus-Max-Size). Default 200 MiB.
	MaxSize int64
	// Expiry is how long an unfinished upload may take from its creation
	// (Upload-Expires). Default 24h.
	Expiry time.Duration
	// KeepRecords is how long the record of an expired or completed upload
	// is kept after its expiry, so that it answers 410 (expired) or its
	// final offset (completed) rather than 404. Default 24h.
	KeepRecords time.Duration
	// SweepEvery is the period of the expiry sweep. Default 1m.
	SweepEvery time.Duration
	// MaxConcurrentPerUser bounds a user's requests that carry upload bytes
	// at once; past it 503 + Retry-After. Default 8.
	MaxConcurrentPerUser int
	// MaxUnfinishedPerUser bounds a user's unfinished uploads; creating one
	// more answers 429. Default 100.
	MaxUnfinishedPerUser int
	// ProgressEvery throttles progress events per upload. Default 250ms.
	ProgressEvery time.Duration
	// CheckpointBytes: a PATCH without a checksum commits (fsync) every so
	// many bytes, so a crash mid-request loses at most that much. Default 64 MiB.
	CheckpointBytes int64
	// IdleTimeout ends a request whose body sends nothing for so long.
	// Default 30s.
	IdleTimeout time.Duration
	// LockStaleAfter: a request holding an upload's lock that has received
	// nothing for so long yields it to a newer request for the same upload
	// (a client that reconnected); an active holder makes the newer one 423.
	// Default 3s.
	LockStaleAfter time.Duration
	// MaxMetadataBytes bounds the Upload-Metadata header. Default 4 KiB.
	MaxMetadataBytes int
	// BufferBytes is the copy buffer per request. Default 1 MiB.
	BufferBytes int
	// IngestTimeout bounds the processing of a complete upload. Default 10m.
	IngestTimeout time.Duration
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.BasePath == "" {
		c.BasePath = "/api/v1/uploads/"
	}
	if c.MaxSize == 0 {
		c.MaxSize = 200 << 20
	}
	def(&c.Expiry, 24*time.Hour)
	def(&c.KeepRecords, 24*time.Hour)
	def(&c.SweepEvery, time.Minute)
	def(&c.ProgressEvery, 250*time.Millisecond)
	def(&c.IdleTimeout, 30*time.Second)
	def(&c.LockStaleAfter, 3*time.Second)
	def(&c.IngestTimeout, 10*time.Minute)
	if c.MaxConcurrentPerUser == 0 {
		c.MaxConcurrentPerUser = 8
	}
	if c.MaxUnfinishedPerUser == 0 {
		c.MaxUnfinishedPerUser = 100
	}
	if c.CheckpointBytes == 0 {
		c.CheckpointBytes = 64 << 20
	}
	if c.MaxMetadataBytes == 0 {
		c.MaxMetadataBytes = 4 << 10
	}
	if c.BufferBytes == 0 {
		c.BufferBytes = 1 << 20
	}
}

// Validate checks the config after defaults are applied.
func (c Config) Validate() error {
	c.setDefaults()
	switch {
	case !strings.HasPrefix(c.BasePath, "/") || !strings.HasSuffix(c.BasePath, "/"):
		return errors.New("tus base path must start and end with /")
	case c.PublicURL != "" && !(strings.HasPrefix(c.PublicURL, "http://") || strings.HasPrefix(c.PublicURL, "https://")):
		return errors.New("tus public URL must be absolute (http:// or https://)")
	case c.MaxSize < 0:
		return errors.New("tus max size must be positive")
	case c.Expiry < time.Minute:
		return fmt.Errorf("tus expiry %v is shorter than a minute", c.Expiry)
	case c.KeepRecords < 0, c.SweepEvery < 0, c.ProgressEvery < 0, c.IdleTimeout < 0, c.LockStaleAfter < 0, c.IngestTimeout < 0:
		return errors.New("tus durations must be positive")
	case c.MaxConcurrentPerUser < 0, c.MaxUnfinishedPerUser < 0:
		return errors.New("tus per-user limits must be positive")
	case c.CheckpointBytes < 0, c.BufferBytes < 0 || c.BufferBytes > 16<<20:
		return errors.New("tus buffer must be between 1 byte and 16 MiB and the checkpoint positive")
	case c.MaxMetadataBytes < 0:
		return errors.New("tus max metadata bytes must be positive")
	}
	return nil
}
