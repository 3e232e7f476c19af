package akamai_test

import (
	"testing"

	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/cdn/akamai"
	"github.com/imgmgr/imgmgr/cdn/akamai/akamaitest"
	"github.com/imgmgr/imgmgr/cdn/cdntest"
)

func TestConformance(t *testing.T) {
	cdntest.Run(t, func(t *testing.T, wrong bool) (cdn.Provider, cdntest.Vendor) {
		srv := akamaitest.New(akamaitest.Options{})
		t.Cleanup(srv.Close)
		secret := "secret-1"
		if wrong {
			secret = "guessed"
		}
		p, err := akamai.New(akamai.Config{BaseURL: srv.URL,
			Credentials: akamai.Credentials{ClientToken: "ct-1", ClientSecret: secret, AccessToken: "at-1"}})
		if err != nil {
			t.Fatal(err)
		}
		return p, srv
	})
}
