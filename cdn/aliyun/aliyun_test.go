package aliyun_test

import (
	"testing"

	"github.com/imgmgr/imgmgr/cdn"
	"github.com/imgmgr/imgmgr/cdn/aliyun"
	"github.com/imgmgr/imgmgr/cdn/aliyun/aliyuntest"
	"github.com/imgmgr/imgmgr/cdn/cdntest"
)

func TestConformance(t *testing.T) {
	cdntest.Run(t, func(t *testing.T, wrong bool) (cdn.Provider, cdntest.Vendor) {
		srv := aliyuntest.New(aliyuntest.Options{})
		t.Cleanup(srv.Close)
		secret := "secret-1"
		if wrong {
			secret = "guessed"
		}
		p, err := aliyun.New(aliyun.Config{Endpoint: srv.URL, AccessKeyID: "id-1", AccessKeySecret: secret})
		if err != nil {
			t.Fatal(err)
		}
		return p, srv
	})
}
