package config

import (
	"errors"
	"testing"
)

func TestCDNValidateNamesTheKey(t *testing.T) {
	for _, tc := range []struct {
		set  func(c *CDN)
		want string
	}{
		{func(c *CDN) { c.Provider = "fastly" }, "cdn.provider"},
		{func(c *CDN) { c.Provider = "cloudflare" }, "cdn.public_base_url"},
		{func(c *CDN) { c.Provider, c.PublicBaseURL = "cloudflare", "https://img.example.com" }, "cdn.cloudflare.zone_id"},
		{func(c *CDN) {
			c.Provider, c.PublicBaseURL, c.Cloudflare.ZoneID = "cloudflare", "https://img.example.com", "z"
		}, "cdn.cloudflare.api_token"},
		{func(c *CDN) { c.Provider, c.PublicBaseURL = "akamai", "https://img.example.com" }, "cdn.akamai.base_url"},
		{func(c *CDN) {
			c.Provider, c.PublicBaseURL, c.Akamai = "akamai", "https://img.example.com",
				CDNAkamai{BaseURL: "https://akab-x.luna.akamaiapis.net", ClientToken: "a", ClientSecret: "b", AccessToken: "c", Network: "qa", Action: "invalidate"}
		}, "cdn.akamai.network"},
		{func(c *CDN) { c.Provider, c.PublicBaseURL = "aliyun", "https://img.example.com" }, "cdn.aliyun.access_key_id"},
		{func(c *CDN) {
			c.Provider, c.PublicBaseURL, c.Aliyun.AccessKeyID, c.Aliyun.AccessKeySecret = "aliyun", "https://img.example.com", "i", "s"
			c.PrefetchPresets = []string{"nope"}
		}, "cdn.prefetch_presets"},
	} {
		c := Default()
		tc.set(&c.CDN)
		var ce *Error
		if err := c.Validate(); !errors.As(err, &ce) || ce.Key != tc.want {
			t.Errorf("got %v, want an error naming %s", err, tc.want)
		}
	}
}

func TestCDNEnvAndTagHeader(t *testing.T) {
	env := map[string]string{"IMGMGR_CDN_PROVIDER": "cloudflare", "IMGMGR_CDN_PUBLIC_BASE_URL": "https://img.example.com",
		"IMGMGR_CDN_CLOUDFLARE_ZONE_ID": "z1", "IMGMGR_CDN_CLOUDFLARE_API_TOKEN": "tok", "IMGMGR_CDN_PREFETCH_PRESETS": "thumb,card"}
	c := Default()
	if err := applyEnv(&c, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.CDN.Cloudflare.APIToken != "tok" || c.CDN.Cloudflare.ZoneID != "z1" || len(c.CDN.PrefetchPresets) != 2 || c.CDN.Tag() != "Cache-Tag" {
		t.Fatalf("cdn %+v, tag %q", c.CDN, c.CDN.Tag())
	}
	c.CDN.Provider = "aliyun"
	if c.CDN.Tag() != "" {
		t.Fatal("aliyun has no tag header by default")
	}
	c.CDN.TagHeader = "Surrogate-Key"
	if c.CDN.Tag() != "Surrogate-Key" {
		t.Fatal("tag_header is not honoured")
	}
}
