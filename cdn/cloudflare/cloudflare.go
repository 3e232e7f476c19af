// Package cloudflare purges Cloudflare's cache through its v4 API
// (POST {api_base}/zones/{zone_id}/purge_cache with a bearer API token), by
// URL (optionally per Accept variant) and by cache tag. Cloudflare has no
// push API: prefetch GETs the public URLs through the CDN.
//
// Limits, from Cloudflare's purge documentation: at most 100 URLs or tags
// per request on every plan; requests are a token bucket per account (Pro:
// 5 per second with a bucket of 25), answered with 429 and Retry-After
// when exceeded.
package cloudflare

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr/cdn"
)

// DefaultAPIBase is Cloudflare's API root.
const DefaultAPIBase = "https://api.cloudflare.com/client/v4"

// MaxPerRequest is the most files or tags one purge request may carry.
const MaxPerRequest = 100

// Config of the client. APIBase defaults to DefaultAPIBase.
type Config struct {
	APIBase  string
	ZoneID   string
	APIToken string
	Client   *http.Client // default a client with a 30s timeout
	Warmer   *cdn.Warmer  // prefetch GETs; default cdn.Warmer{}
}

// Provider is the Cloudflare client.
type Provider struct {
	cfg Config
}

var (
	_ cdn.Provider   = (*Provider)(nil)
	_ cdn.TagPurger  = (*Provider)(nil)
	_ cdn.Prefetcher = (*Provider)(nil)
)

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.APIBase == "" {
		cfg.APIBase = DefaultAPIBase
	}
	cfg.APIBase = strings.TrimRight(cfg.APIBase, "/")
	if cfg.ZoneID == "" || cfg.APIToken == "" {
		return nil, errors.New("cloudflare: zone_id and api_token are required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Warmer == nil {
		cfg.Warmer = &cdn.Warmer{Client: cfg.Client}
	}
	return &Provider{cfg: cfg}, nil
}

// Name is "cloudflare".
func (p *Provider) Name() string { return "cloudflare" }

func limits() cdn.Limits {
	return cdn.Limits{MaxObjects: MaxPerRequest, RequestsPerSecond: 5, RequestBurst: 25}
}

// URLLimits: 100 files per request, 5 requests/s.
func (p *Provider) URLLimits() cdn.Limits { return limits() }

// TagLimits: 100 tags per request, 5 requests/s.
func (p *Provider) TagLimits() cdn.Limits { return limits() }

// PrefetchLimits are the warmer's.
func (p *Provider) PrefetchLimits() cdn.Limits { return p.cfg.Warmer.WarmLimits() }

// file is one entry of "files": a bare URL, or a URL with the headers of
// the cached variant (here Accept).
type file struct {
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers"`
}

// PurgeURLs purges files; an object with Accept becomes {url, headers}.
func (p *Provider) PurgeURLs(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	files := make([]any, len(objs))
	for i, o := range objs {
		if o.Accept == "" {
			files[i] = o.URL
		} else {
			files[i] = file{URL: o.URL, Headers: map[string]string{"Accept": o.Accept}}
		}
	}
	return p.purge(ctx, "purge_files", map[string]any{"files": files})
}

// PurgeTags purges every object carrying one of the tags.
func (p *Provider) PurgeTags(ctx context.Context, tags []string) (cdn.Receipt, error) {
	return p.purge(ctx, "purge_tags", map[string]any{"tags": tags})
}

// Prefetch warms the URLs with GETs through the CDN.
func (p *Provider) Prefetch(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	return p.cfg.Warmer.Warm(ctx, p.Name(), objs)
}

// envelope is Cloudflare's answer to every v4 call.
type envelope struct {
	Success bool `json:"success"`
	Errors  []struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
	Result struct {
		ID string `json:"id"`
	} `json:"result"`
}

func (p *Provider) purge(ctx context.Context, op string, body any) (cdn.Receipt, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return cdn.Receipt{}, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.cfg.APIBase+"/zones/"+p.cfg.ZoneID+"/purge_cache", bytes.NewReader(b))
	if err != nil {
		return cdn.Receipt{}, &cdn.Error{Provider: p.Name(), Op: op, Message: "bad api_base", Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+p.cfg.APIToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return cdn.Receipt{}, &cdn.Error{Provider: p.Name(), Op: op, Retry: true, Err: err}
	}
	defer resp.Body.Close()
	var env envelope
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	jerr := json.Unmarshal(raw, &env)
	if resp.StatusCode/100 == 2 && jerr == nil && env.Success {
		// Instant purge: Cloudflare answers once the purge is propagated.
		return cdn.Receipt{TaskID: env.Result.ID, Done: true}, nil
	}
	e := &cdn.Error{Provider: p.Name(), Op: op, Status: resp.StatusCode,
		Retry: resp.StatusCode == 429 || resp.StatusCode >= 500, RetryAfter: cdn.RetryAfter(resp.Header, 0)}
	if len(env.Errors) > 0 {
		e.Code, e.Message = jsonInt(env.Errors[0].Code), env.Errors[0].Message
	}
	return cdn.Receipt{}, e
}

func jsonInt(n int) string { b, _ := json.Marshal(n); return string(b) }
