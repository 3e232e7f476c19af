package config

import (
	"net/url"
	"strings"
)

// CDN configures purges and prefetches at a CDN vendor (cdn/).
type CDN struct {
	Provider        string        `json:"provider"`         // "" (off) | cloudflare | akamai | aliyun
	PublicBaseURL   string        `json:"public_base_url"`  // the CDN hostname variants are fetched through, e.g. https://img.example.com
	TagHeader       string        `json:"tag_header"`       // "" = by provider: Cache-Tag (cloudflare), Edge-Cache-Tag (akamai), none (aliyun)
	Cloudflare      CDNCloudflare `json:"cloudflare"`       //
	Akamai          CDNAkamai     `json:"akamai"`           //
	Aliyun          CDNAliyun     `json:"aliyun"`           //
	PrefetchPresets []string      `json:"prefetch_presets"` // presets (delivery.presets) warmed after each upload
}

// CDNCloudflare holds the Cloudflare API settings.
type CDNCloudflare struct {
	APIBase  string `json:"api_base"` // default https://api.cloudflare.com/client/v4
	ZoneID   string `json:"zone_id"`
	APIToken string `json:"api_token"` // a token with the Cache Purge permission
}

// CDNAkamai holds the Fast Purge API's EdgeGrid credentials.
type CDNAkamai struct {
	BaseURL      string `json:"base_url"` // https://akab-….luna.akamaiapis.net
	ClientToken  string `json:"client_token"`
	ClientSecret string `json:"client_secret"`
	AccessToken  string `json:"access_token"`
	Network      string `json:"network"` // production (default) | staging
	Action       string `json:"action"`  // invalidate (default) | delete
}

// CDNAliyun holds the Alibaba Cloud CDN API credentials.
type CDNAliyun struct {
	Endpoint        string `json:"endpoint"` // default https://cdn.aliyuncs.com
	AccessKeyID     string `json:"access_key_id"`
	AccessKeySecret string `json:"access_key_secret"`
}

func defaultCDN() CDN {
	return CDN{Cloudflare: CDNCloudflare{APIBase: "https://api.cloudflare.com/client/v4"},
		Akamai: CDNAkamai{Network: "production", Action: "invalidate"},
		Aliyun: CDNAliyun{Endpoint: "https://cdn.aliyuncs.com"}}
}

// Tag is the response header that carries cache tags: tag_header, else the
// provider's ("" = no tags).
func (c CDN) Tag() string {
	if c.TagHeader != "" {
		return c.TagHeader
	}
	return map[string]string{"cloudflare": "Cache-Tag", "akamai": "Edge-Cache-Tag"}[c.Provider]
}

// validate names the first bad cdn key; presets are delivery.presets.
func (c CDN) validate(presets map[string]string) error {
	if !oneOf(c.Provider, "", "cloudflare", "akamai", "aliyun") {
		return keyErr("cdn.provider", "must be empty (off), cloudflare, akamai or aliyun")
	}
	if c.Provider == "" {
		return nil
	}
	if u, err := url.Parse(c.PublicBaseURL); err != nil || !isHTTP(u) || u.RawQuery != "" {
		return keyErr("cdn.public_base_url", "%q is not an absolute http(s) URL like https://img.example.com", c.PublicBaseURL)
	}
	if strings.ContainsAny(c.TagHeader, " :\r\n") {
		return keyErr("cdn.tag_header", "%q is not a header name", c.TagHeader)
	}
	for i, p := range c.PrefetchPresets {
		if _, ok := presets[p]; !ok {
			return keyErr("cdn.prefetch_presets", "[%d] %q is not defined in delivery.presets", i, p)
		}
	}
	return c.validateProvider()
}

func (c CDN) validateProvider() error {
	need := func(key, v string) error {
		if v == "" {
			return keyErr(key, "is required when cdn.provider is %s", c.Provider)
		}
		return nil
	}
	var checks []error
	switch c.Provider {
	case "cloudflare":
		checks = []error{absURL("cdn.cloudflare.api_base", c.Cloudflare.APIBase), need("cdn.cloudflare.zone_id", c.Cloudflare.ZoneID),
			need("cdn.cloudflare.api_token", c.Cloudflare.APIToken)}
	case "akamai":
		a := c.Akamai
		checks = []error{absURL("cdn.akamai.base_url", a.BaseURL), need("cdn.akamai.client_token", a.ClientToken),
			need("cdn.akamai.client_secret", a.ClientSecret), need("cdn.akamai.access_token", a.AccessToken)}
		if !oneOf(a.Network, "production", "staging") {
			checks = append(checks, keyErr("cdn.akamai.network", "must be production or staging"))
		}
		if !oneOf(a.Action, "invalidate", "delete") {
			checks = append(checks, keyErr("cdn.akamai.action", "must be invalidate or delete"))
		}
	case "aliyun":
		checks = []error{absURL("cdn.aliyun.endpoint", c.Aliyun.Endpoint), need("cdn.aliyun.access_key_id", c.Aliyun.AccessKeyID),
			need("cdn.aliyun.access_key_secret", c.Aliyun.AccessKeySecret)}
	}
	for _, err := range checks {
		if err != nil {
			return err
		}
	}
	return nil
}

func absURL(key, v string) error {
	if u, err := url.Parse(v); err != nil || !isHTTP(u) {
		return keyErr(key, "%q is not an absolute http(s) URL", v)
	}
	return nil
}
