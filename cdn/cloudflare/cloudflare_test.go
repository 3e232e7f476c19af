package cloudflare_test

import (
	"testing"

	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/cdn/cdntest"
	"github.com/imgmgr/imgmgr/cdn/cloudflare"
	"github.com/imgmgr/imgmgr/cdn/cloudflare/cloudflaretest"
)

func TestConformance(t *testing.T) {
	cdntest.Run(t, func(t *testing.T, wrong bool) (cdn.Provider, cdntest.Vendor) {
		srv := cloudflaretest.New(cloudflaretest.Options{})
		t.Cleanup(srv.Close)
		token := "token-1"
		if wrong {
			token = "stolen"
		}
		p, err := cloudflare.New(cloudflare.Config{APIBase: srv.APIBase(), ZoneID: "zone-1", APIToken: token})
		if err != nil {
			t.Fatal(err)
		}
		return p, srv
	})
}
