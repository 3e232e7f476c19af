package main

import (
	"context"
	"time"

	"github.com/imgmgr/imgmgr"
	rcluster "github.com/imgmgr/imgmgr/cluster" // renamed: the tests of package main have a type cluster
	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/httpapi"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/ratelimit"
	"github.com/imgmgr/imgmgr/scan"
	"github.com/imgmgr/imgmgr/scan/clamd"
)

// limits builds the rate limiters of ratelimit.*: in process, or shared
// through Redis when replicas share one.
func (a *app) limits(sh *shared) (httpapi.Limits, error) {
	rc := a.cfg.Rate
	proxies, err := ratelimit.NewTrustedProxies(a.cfg.Server.TrustedProxies)
	if err != nil {
		return httpapi.Limits{}, &config.Error{Key: "server.trusted_proxies", Err: err}
	}
	l := httpapi.Limits{Proxies: proxies, FailOpen: rc.FailOpen}
	if !rc.Enabled {
		a.log.Warn("ratelimit: disabled (ratelimit.enabled=false)")
		return l, nil
	}
	mk := func(policy string, perMinute float64, burst int) (ratelimit.Limiter, error) {
		lim := ratelimit.PerMinute(perMinute, burst)
		if err := lim.Validate(); err != nil {
			return nil, &config.Error{Key: "ratelimit." + policy, Err: err}
		}
		if sh.redis != nil {
			return sh.redis.NewLimiter(rcluster.LimiterConfig{Limit: lim, Policy: policy})
		}
		return ratelimit.NewMemory(ratelimit.MemoryConfig{Limit: lim})
	}
	perRole := func(policy string, perMinute float64, burst int) (map[imgmgr.Role]ratelimit.Limiter, error) {
		user, err := mk(policy, perMinute, burst)
		if err != nil {
			return nil, err
		}
		f := max(rc.AdminFactor, 1)
		admin, err := mk(policy+"-admin", perMinute*f, int(float64(burst)*f))
		return map[imgmgr.Role]ratelimit.Limiter{imgmgr.RoleUser: user, imgmgr.RoleAdmin: admin}, err
	}
	steps := []func() error{
		func() (err error) { l.PerIP, err = mk("ip", rc.IPPerMinute, rc.IPBurst); return },
		func() (err error) { l.Login, err = mk("login", rc.LoginPerMinute, rc.LoginBurst); return },
		func() (err error) { l.Renders, err = mk("renders", rc.RendersPerMinute, rc.RendersBurst); return },
		func() (err error) { l.API, err = perRole("api", rc.APIPerMinute, rc.APIBurst); return },
		func() (err error) { l.Uploads, err = perRole("uploads", rc.UploadsPerMinute, rc.UploadsBurst); return },
		func() (err error) {
			l.UploadMiB, err = perRole("upload-mib", rc.UploadMiBPerMinute, rc.UploadMiBBurst)
			return
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return l, err
		}
	}
	var store ratelimit.LockoutStore = ratelimit.NewMemoryLockoutStore(0, nil)
	if sh.redis != nil {
		store = sh.redis.NewLockoutStore()
	}
	l.Lockout, err = ratelimit.NewLockout(store, ratelimit.LockoutConfig{Free: rc.LockoutFree, Max: rc.LockoutMax.D()})
	return l, err
}

// scanner connects to clamd when scan.clamd_address is set.
func (a *app) scanner() (*clamd.Client, ingest.ScanFunc, error) {
	c := a.cfg.Scan
	if c.ClamdAddress == "" {
		a.log.Warn("scan: no malware scanning (set scan.clamd_address to scan every upload with ClamAV)")
		return nil, nil, nil
	}
	cl, err := clamd.New(clamd.Config{Address: c.ClamdAddress, Timeout: c.Timeout.D(), MaxParallel: c.MaxParallel})
	if err != nil {
		return nil, nil, &config.Error{Key: "scan.clamd_address", Err: err}
	}
	// A scanner that is down at start-up is not fatal: uploads answer 503
	// (or pass unscanned under scan.fail_open) and /readyz says so until it
	// answers, as when it goes away later.
	pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(pctx); err != nil {
		a.log.Warn("scan: clamd does not answer yet; uploads wait for it", "address", c.ClamdAddress, "err", err)
	}
	mode := "fail-closed"
	if c.FailOpen {
		mode = "fail-open"
	}
	a.log.Info("scan: clamd at "+c.ClamdAddress, "mode", mode)
	return cl, scan.Func(cl), nil
}
