package main

import (
	"context"
	"fmt"
	"net/http"
	"path"
	"strings"

	"github.com/imgmgr/imgmgr/delivery"
	"github.com/imgmgr/imgmgr/jobs"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/variant"
)

// openDelivery starts the background job runner and the variant service
// (which registers its eager-preset job before the runner starts).
func (a *app) openDelivery(gate func(*http.Request) error, flights delivery.Flights) (*delivery.Service, error) {
	cfg := a.cfg
	keys, err := signingKeys(cfg)
	if err != nil {
		return nil, err
	}
	runner, err := jobs.New(jobs.Config{Workers: 2}, a.meta, a.reg, a.log)
	if err != nil {
		return nil, err
	}
	d := cfg.Delivery
	vk := make([]variant.Key, len(keys))
	for i, k := range keys {
		vk[i] = variant.Key{Key: k.Key, Salt: k.Salt}
	}
	svc, err := delivery.New(delivery.Config{
		Keys: vk, SignatureSize: d.SignatureSize, AllowUnsignedPresets: d.AllowUnsignedPresets,
		Presets: d.Presets, DefaultPreset: d.DefaultPreset, EagerPresets: d.EagerPresets, FormatOrder: d.FormatOrder,
		PrivateTTL: d.PrivateTTL.D(), PrivateMaxTTL: d.PrivateMaxTTL.D(), TagHeader: a.tagHeader(), CacheMaxBytes: d.CacheMaxBytes,
		RenderConcurrency: d.RenderConcurrency,
		RenderQueue:       d.RenderQueue, RenderTimeout: d.RenderTimeout.D(),
		Render: variant.RenderConfig{Quality: d.Quality, MaxResultPixels: cfg.Limits.MaxResultPixels, MaxFrames: cfg.Limits.MaxFrames},
	}, delivery.Deps{Images: a.meta, Variants: a.meta, Blobs: a.blobs, Jobs: runner, RenderGate: gate, Flights: flights,
		URLs: a.variantURLs(), Metrics: a.reg, Logger: a.log})
	if err != nil {
		return nil, fmt.Errorf("delivery: %w", err)
	}
	runner.Start()
	// Closed in reverse: the job runner stops first (no new eager render),
	// then the service waits for the renders in flight.
	a.closers = append(a.closers, svc.Close, runner.Close)
	a.log.Info("delivery: variants ready at /img/", "presets", len(d.Presets), "eager", d.EagerPresets)
	return svc, nil
}

// tagHeader is the cache tag header variants carry: only behind a CDN.
func (a *app) tagHeader() string {
	if a.cfg.CDN.Provider == "" {
		return ""
	}
	return a.cfg.CDN.Tag()
}

// variantURLs records served variant URLs when a CDN is configured (URL
// purges list them).
func (a *app) variantURLs() meta.VariantURLs {
	if a.cfg.CDN.Provider == "" {
		return nil
	}
	return a.meta
}

// countViews records a view of the image a /img/ request served.
func countViews(views stats.Views, next func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		rec := &statusWriter{ResponseWriter: w}
		err := next(rec, r)
		if err == nil && (rec.status == 0 || rec.status == http.StatusOK || rec.status == http.StatusNotModified) {
			id, _, _ := strings.Cut(path.Base(r.URL.Path), ".")
			_ = views.Record(context.WithoutCancel(r.Context()), id) // a lost count is not worth failing a response
		}
		return err
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
