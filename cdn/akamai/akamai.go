package akamai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/imgmgr/imgmgr/cdn"
)

// MaxBodyBytes is Fast Purge's body limit.
const MaxBodyBytes = 50000

// Config of the client. Network defaults to production, Action to
// invalidate.
type Config struct {
	BaseURL string // https://akab-….luna.akamaiapis.net
	Credentials
	Network string // production | staging
	Action  string // invalidate | delete
	Client  *http.Client
	Warmer  *cdn.Warmer
	Now     func() time.Time // default time.Now (tests)
}

// Provider is the Fast Purge client.
type Provider struct{ cfg Config }

var (
	_ cdn.Provider   = (*Provider)(nil)
	_ cdn.TagPurger  = (*Provider)(nil)
	_ cdn.Prefetcher = (*Provider)(nil)
)

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Network == "" {
		cfg.Network = "production"
	}
	if cfg.Action == "" {
		cfg.Action = "invalidate"
	}
	u, err := url.Parse(cfg.BaseURL)
	switch {
	case err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "":
		return nil, errors.New("akamai: base_url must be an absolute URL")
	case cfg.ClientToken == "" || cfg.ClientSecret == "" || cfg.AccessToken == "":
		return nil, errors.New("akamai: client_token, client_secret and access_token are required")
	case cfg.Network != "production" && cfg.Network != "staging":
		return nil, errors.New("akamai: network must be production or staging")
	case cfg.Action != "invalidate" && cfg.Action != "delete":
		return nil, errors.New("akamai: action must be invalidate or delete")
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Warmer == nil {
		cfg.Warmer = &cdn.Warmer{Client: cfg.Client}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg}, nil
}

// Name is "akamai".
func (p *Provider) Name() string { return "akamai" }

// objectBytes is what one object adds to {"objects":[...]}: its JSON
// string and a comma.
func objectBytes(s string) int { b, _ := json.Marshal(s); return len(b) + 1 }

// URLLimits: bodies under 50,000 bytes; 50 requests/s (bucket 100) and
// 200 URLs/s (bucket 10,000).
func (p *Provider) URLLimits() cdn.Limits {
	return cdn.Limits{MaxBodyBytes: MaxBodyBytes, ObjectBytes: objectBytes, RequestsPerSecond: 50, RequestBurst: 100,
		ObjectsPerSecond: 200, ObjectBurst: 10000}
}

// TagLimits: as URLs, with 5,000 tags per bucket refilled at 500/min.
func (p *Provider) TagLimits() cdn.Limits {
	l := p.URLLimits()
	l.ObjectsPerSecond, l.ObjectBurst = 500.0/60, 5000
	return l
}

// PrefetchLimits are the warmer's.
func (p *Provider) PrefetchLimits() cdn.Limits { return p.cfg.Warmer.WarmLimits() }

// PurgeURLs purges URLs (Accept variants are not keyed by Fast Purge: the
// URL covers them all).
func (p *Provider) PurgeURLs(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	urls := make([]string, 0, len(objs))
	seen := map[string]bool{}
	for _, o := range objs {
		if !seen[o.URL] {
			seen[o.URL] = true
			urls = append(urls, o.URL)
		}
	}
	return p.purge(ctx, "url", urls)
}

// PurgeTags purges by cache tag.
func (p *Provider) PurgeTags(ctx context.Context, tags []string) (cdn.Receipt, error) {
	return p.purge(ctx, "tag", tags)
}

// Prefetch warms the URLs with GETs through the CDN.
func (p *Provider) Prefetch(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	return p.cfg.Warmer.Warm(ctx, p.Name(), objs)
}

// answer is Fast Purge's JSON answer (201 and problem+json alike).
type answer struct {
	HTTPStatus       int    `json:"httpStatus"`
	Detail           string `json:"detail"`
	Title            string `json:"title"`
	EstimatedSeconds int    `json:"estimatedSeconds"`
	PurgeID          string `json:"purgeId"`
	SupportID        string `json:"supportId"`
}

func (p *Provider) purge(ctx context.Context, kind string, objects []string) (cdn.Receipt, error) {
	op := p.cfg.Action + "_" + kind
	body, _ := json.Marshal(map[string][]string{"objects": objects})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost,
		p.cfg.BaseURL+"/ccu/v3/"+p.cfg.Action+"/"+kind+"/"+p.cfg.Network, bytes.NewReader(body))
	if err != nil {
		return cdn.Receipt{}, &cdn.Error{Provider: p.Name(), Op: op, Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", p.cfg.Sign(req, body, p.cfg.Now(), uuid.NewString()))
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return cdn.Receipt{}, &cdn.Error{Provider: p.Name(), Op: op, Retry: true, Err: err}
	}
	defer resp.Body.Close()
	var a answer
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	jerr := json.Unmarshal(raw, &a)
	if resp.StatusCode == http.StatusCreated && jerr == nil && a.PurgeID != "" {
		return cdn.Receipt{TaskID: a.PurgeID, Estimate: time.Duration(a.EstimatedSeconds) * time.Second}, nil
	}
	e := &cdn.Error{Provider: p.Name(), Op: op, Status: resp.StatusCode, Message: a.Title + ": " + a.Detail,
		Retry: resp.StatusCode == 429 || resp.StatusCode == 507 || resp.StatusCode >= 500}
	if resp.StatusCode == 429 {
		e.RetryAfter = cdn.RetryAfter(resp.Header, 5*time.Second) // "wait five seconds, then retry"
	}
	if a.SupportID != "" {
		e.Code = "supportId " + a.SupportID
	}
	return cdn.Receipt{}, e
}
