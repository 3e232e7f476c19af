// Package aliyun purges and prefetches through Alibaba Cloud CDN's RPC API
// (version 2018-05-10): RefreshObjectCaches (ObjectType File), PushObjectCache,
// and DescribeRefreshTaskById to poll a task until it is Complete or
// Failed. Requests are POSTed as forms and signed with the RPC signature V1
// (HMAC-SHA1 over the canonicalised parameters). Alibaba Cloud CDN has no
// cache tags: purges list URLs.
//
// Limits, from Alibaba Cloud's documentation: up to 1,000 URLs per refresh
// call, 50 calls per second per account, 10,000 URL refreshes per day by
// default. Throttling (codes Throttling*) and exhausted daily quotas (codes
// containing Quota) are retryable errors: a throttled call waits a second,
// a quota waits for the next day (Beijing time).
package aliyun

import (
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

// DefaultEndpoint is the CDN API's endpoint.
const DefaultEndpoint = "https://cdn.aliyuncs.com"

// APIVersion is the CDN API version these calls follow.
const APIVersion = "2018-05-10"

// Config of the client.
type Config struct {
	Endpoint        string // default DefaultEndpoint
	AccessKeyID     string
	AccessKeySecret string
	Client          *http.Client
	Now             func() time.Time
}

// Provider is the Alibaba Cloud CDN client.
type Provider struct{ cfg Config }

var (
	_ cdn.Provider      = (*Provider)(nil)
	_ cdn.Prefetcher    = (*Provider)(nil)
	_ cdn.StatusChecker = (*Provider)(nil)
)

// New checks cfg and returns a Provider.
func New(cfg Config) (*Provider, error) {
	if cfg.Endpoint == "" {
		cfg.Endpoint = DefaultEndpoint
	}
	if u, err := url.Parse(cfg.Endpoint); err != nil || u.Host == "" {
		return nil, errors.New("aliyun: endpoint must be an absolute URL")
	}
	if cfg.AccessKeyID == "" || cfg.AccessKeySecret == "" {
		return nil, errors.New("aliyun: access_key_id and access_key_secret are required")
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 30 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Provider{cfg: cfg}, nil
}

// Name is "aliyun".
func (p *Provider) Name() string { return "aliyun" }

// URLLimits: 1,000 URLs per call, 50 calls/s.
func (p *Provider) URLLimits() cdn.Limits {
	return cdn.Limits{MaxObjects: 1000, RequestsPerSecond: 50, RequestBurst: 50}
}

// PrefetchLimits: 100 URLs per push call, 50 calls/s.
func (p *Provider) PrefetchLimits() cdn.Limits {
	return cdn.Limits{MaxObjects: 100, RequestsPerSecond: 50, RequestBurst: 50}
}

// PurgeURLs refreshes files (one entry per URL: the CDN keys no Accept).
func (p *Provider) PurgeURLs(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	var out struct{ RefreshTaskId string }
	err := p.call(ctx, "RefreshObjectCaches", url.Values{"ObjectPath": {paths(objs)}, "ObjectType": {"File"}}, &out)
	return cdn.Receipt{TaskID: out.RefreshTaskId}, err
}

// Prefetch pushes the URLs to the edge.
func (p *Provider) Prefetch(ctx context.Context, objs []cdn.Object) (cdn.Receipt, error) {
	var out struct{ PushTaskId string }
	err := p.call(ctx, "PushObjectCache", url.Values{"ObjectPath": {paths(objs)}}, &out)
	return cdn.Receipt{TaskID: out.PushTaskId}, err
}

// maxIDsPerQuery is how many task ids DescribeRefreshTaskById takes.
const maxIDsPerQuery = 10

// TaskStates asks DescribeRefreshTaskById, ten ids per call. The API lists
// one entry per URL of a task: the task is done when every entry is
// Complete, failed when one is Failed, else (Pending, Refreshing) pending;
// an id the API does not list is pending.
func (p *Provider) TaskStates(ctx context.Context, ids []string) (map[string]cdn.State, error) {
	out := map[string]cdn.State{}
	for lo := 0; lo < len(ids); lo += maxIDsPerQuery {
		var res struct {
			Tasks []struct{ TaskId, Status string }
		}
		chunk := ids[lo:min(lo+maxIDsPerQuery, len(ids))]
		if err := p.call(ctx, "DescribeRefreshTaskById", url.Values{"TaskId": {strings.Join(chunk, ",")}}, &res); err != nil {
			return nil, err
		}
		for _, id := range chunk {
			out[id] = cdn.VendorPending
		}
		out = merge(out, res.Tasks)
	}
	return out, nil
}

func merge(out map[string]cdn.State, tasks []struct{ TaskId, Status string }) map[string]cdn.State {
	complete := map[string]bool{}
	for _, t := range tasks {
		if _, ok := complete[t.TaskId]; !ok {
			complete[t.TaskId] = true
		}
		switch t.Status {
		case "Failed":
			out[t.TaskId] = cdn.VendorFailed
		case "Complete":
		default:
			complete[t.TaskId] = false
		}
	}
	for id, c := range complete {
		if c && out[id] != cdn.VendorFailed {
			out[id] = cdn.VendorDone
		}
	}
	return out
}

func paths(objs []cdn.Object) string {
	seen, out := map[string]bool{}, make([]string, 0, len(objs))
	for _, o := range objs {
		if !seen[o.URL] {
			seen[o.URL] = true
			out = append(out, o.URL)
		}
	}
	return strings.Join(out, "\n")
}

// apiError is the RPC error body.
type apiError struct{ RequestId, Code, Message string }

// call POSTs the signed form of action with params and decodes the answer.
func (p *Provider) call(ctx context.Context, action string, params url.Values, out any) error {
	params.Set("Action", action)
	params.Set("Version", APIVersion)
	params.Set("Format", "JSON")
	params.Set("AccessKeyId", p.cfg.AccessKeyID)
	params.Set("SignatureMethod", "HMAC-SHA1")
	params.Set("SignatureVersion", "1.0")
	params.Set("SignatureNonce", uuid.NewString())
	params.Set("Timestamp", p.cfg.Now().UTC().Format("2006-01-02T15:04:05Z"))
	params.Set("Signature", Sign(http.MethodPost, p.cfg.AccessKeySecret, params))
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(p.cfg.Endpoint, "/")+"/",
		strings.NewReader(params.Encode()))
	if err != nil {
		return &cdn.Error{Provider: p.Name(), Op: action, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.cfg.Client.Do(req)
	if err != nil {
		return &cdn.Error{Provider: p.Name(), Op: action, Retry: true, Err: err}
	}
	defer resp.Body.Close()
	// Task listings name every URL of a task (1,000 per refresh call).
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			return &cdn.Error{Provider: p.Name(), Op: action, Status: resp.StatusCode, Retry: true, Err: err}
		}
		return nil
	}
	var ae apiError
	json.Unmarshal(raw, &ae)
	return p.classify(action, resp, ae)
}

// classify turns an error answer into a *cdn.Error: throttling and quotas
// retry (after a second, or at the next Beijing midnight), 5xx retry.
func (p *Provider) classify(action string, resp *http.Response, ae apiError) error {
	e := &cdn.Error{Provider: p.Name(), Op: action, Status: resp.StatusCode, Code: ae.Code, Message: ae.Message,
		Retry: resp.StatusCode >= 500 || resp.StatusCode == 429, RetryAfter: cdn.RetryAfter(resp.Header, 0)}
	switch {
	case strings.HasPrefix(ae.Code, "Throttling"):
		e.Retry, e.Throttled = true, true
		e.RetryAfter = max(e.RetryAfter, time.Second)
	case strings.Contains(ae.Code, "Quota"):
		e.Retry, e.Throttled = true, true
		e.RetryAfter = max(e.RetryAfter, untilBeijingMidnight(p.cfg.Now()))
	}
	return e
}

var beijing = time.FixedZone("CST", 8*3600)

func untilBeijingMidnight(now time.Time) time.Duration {
	t := now.In(beijing)
	next := time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, beijing)
	return next.Sub(now)
}
