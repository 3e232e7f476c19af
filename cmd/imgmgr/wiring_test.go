package main

import (
	"testing"

	"github.com/imgmgr/imgmgr/config"
)

// Regression: server.cors_origins and upload.max_concurrent were declared,
// documented in config.example.json and validated, but build never passed
// them on: browsers on another origin got no CORS answer, and the ingest cap
// stayed at its default whatever the operator set.
func TestConfigKeysReachTheServer(t *testing.T) {
	ts := startServer(t, func(c *config.Config) {
		c.Server.CORSOrigins = []string{"https://app.example"}
		c.Upload.MaxConcurrent = 3
	})
	resp := ts.do("OPTIONS", "/api/v1/images", "", nil, map[string]string{
		"Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
	resp.Body.Close()
	if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example" {
		t.Errorf("preflight from a configured origin: %d, Allow-Origin %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	if got := ts.app.ingest.Config().MaxConcurrent; got != 3 {
		t.Errorf("ingest MaxConcurrent = %d, want upload.max_concurrent 3", got)
	}
}
