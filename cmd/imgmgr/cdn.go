package main

import (
	"context"
	"fmt"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/cdn/akamai"
	"github.com/imgmgr/imgmgr/cdn/aliyun"
	"github.com/imgmgr/imgmgr/cdn/cloudflare"
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/images"
)

// cdnProvider builds the configured vendor client; nil when cdn.provider
// is empty.
func cdnProvider(c config.CDN) (cdn.Provider, error) {
	switch c.Provider {
	case "cloudflare":
		return cloudflare.New(cloudflare.Config{APIBase: c.Cloudflare.APIBase, ZoneID: c.Cloudflare.ZoneID, APIToken: c.Cloudflare.APIToken})
	case "akamai":
		a := c.Akamai
		return akamai.New(akamai.Config{BaseURL: a.BaseURL, Network: a.Network, Action: a.Action,
			Credentials: akamai.Credentials{ClientToken: a.ClientToken, ClientSecret: a.ClientSecret, AccessToken: a.AccessToken}})
	case "aliyun":
		return aliyun.New(aliyun.Config{Endpoint: c.Aliyun.Endpoint, AccessKeyID: c.Aliyun.AccessKeyID, AccessKeySecret: c.Aliyun.AccessKeySecret})
	}
	return nil, nil
}

// openCDN starts the CDN task runner; nil when no CDN is configured.
func (a *app) openCDN(signer cdn.Signer) (*cdn.Service, error) {
	p, err := cdnProvider(a.cfg.CDN)
	if err != nil {
		return nil, fmt.Errorf("cdn.%s: %w", a.cfg.CDN.Provider, err)
	}
	if p == nil {
		return nil, nil
	}
	svc, err := cdn.NewService(cdn.Config{PublicBaseURL: a.cfg.CDN.PublicBaseURL, PrefetchPresets: a.cfg.CDN.PrefetchPresets},
		p, a.meta, signer, a.log)
	if err != nil {
		return nil, err
	}
	m, err := cdn.NewMetrics(a.reg, a.meta)
	if err != nil {
		return nil, fmt.Errorf("cdn: metrics: %w", err)
	}
	r := cdn.NewRunner(cdn.RunnerConfig{}, svc, m, a.log)
	r.Start()
	a.closers = append(a.closers, r.Close)
	a.log.Info("cdn: tasks ready", "provider", p.Name(), "tags", svc.TagsSupported(), "public_base_url", a.cfg.CDN.PublicBaseURL)
	return svc, nil
}

// cdnDeps are the CDN service as the images and HTTP layers take it (nil
// interfaces when there is no CDN, never a typed nil).
func cdnDeps(svc *cdn.Service) (images.CDNPurger, httpapi.CDNService) {
	if svc == nil {
		return nil, nil
	}
	return svc, svc
}

// prefetchAfterStore queues the warming of a new image's prefetch presets.
func (a *app) prefetchAfterStore(ctx context.Context, svc *cdn.Service, im *imgmgr.Image) {
	if svc == nil {
		return
	}
	if _, err := svc.PrefetchImage(ctx, im, "image.upload"); err != nil {
		a.log.WarnContext(ctx, "cdn: queueing the prefetch", "image", im.ID, "err", err)
	}
}
