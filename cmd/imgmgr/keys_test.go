package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/imgmgr/imgmgr/config"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10, item 13): config.example.json shipped a concrete
// signing key/salt pair, which every copy of it then shared. It ships an
// empty placeholder; a server started from it generates a pair into the
// data dir, and a restart on that dir keeps it, so URLs stay valid.
func TestExampleConfigShipsNoSigningKey(t *testing.T) {
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	flags := config.NewFlags(fs)
	if err := fs.Parse([]string{"--config", filepath.Join(testenv.RepoRoot(), "config.example.json")}); err != nil {
		t.Fatal(err)
	}
	example, err := config.Load(flags, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range example.Delivery.Keys {
		if !k.Placeholder() {
			t.Fatalf("config.example.json delivery.keys[%d] is a concrete pair: ship empty values", i)
		}
	}
	dir := t.TempDir()
	fromExample := func(c *config.Config) {
		*c = example
		c.Server.DataDir = dir
		c.Scan.ClamdAddress = ""
	}
	first := startServer(t, fromExample)
	_, out := first.upload(first.token, map[string]string{"visibility": "public"}, filePart{"p.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	var signed struct{ URLs []string }
	first.doJSON("POST", "/api/v1/images/"+out.Results[0].Image.ID+"/urls", first.token, map[string]any{"variants": []string{"rs:fit:64:0@webp"}}, 200, &signed)
	fi, err := os.Stat(filepath.Join(dir, "signing-keys.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated signing keys: %v %v, want a 0600 file in the data dir", fi, err)
	}
	restarted := startServer(t, fromExample) // the same data dir: a restart
	resp := restarted.do("GET", signed.URLs[0], "", nil, nil)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a URL signed before the restart: %d after it", resp.StatusCode)
	}
}

// Regression (issue 10, item 13): private images could be signed for up to
// ten years. delivery.private_max_ttl (default 7 days) caps them: a longer
// expires_in is 400 expires_in_too_long (for the batch route, per image);
// public images keep any expiry.
func TestPrivateURLExpiryIsCapped(t *testing.T) {
	ts := startServer(t)
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	_, priv := ts.upload(ts.token, nil, filePart{"a.jpg", photo})
	_, pub := ts.upload(ts.token, map[string]string{"visibility": "public"}, filePart{"b.jpg", photo})
	privID, pubID := priv.Results[0].Image.ID, pub.Results[0].Image.ID
	const week = 7 * 24 * 3600
	sign := func(id string, expiresIn int, want int) {
		t.Helper()
		ts.doJSON("POST", "/api/v1/images/"+id+"/urls", ts.token, map[string]any{"variants": []string{"pr:thumb"}, "expires_in": expiresIn}, want, nil)
	}
	sign(privID, week, 200)
	sign(privID, 10*365*86400, 400)
	sign(privID, week+1, 400)
	sign(pubID, 10*365*86400, 200)
	resp := ts.do("POST", "/api/v1/images/"+privID+"/urls", ts.token, jsonReader(map[string]any{"variants": []string{"pr:thumb"}, "expires_in": week + 1}),
		map[string]string{"Content-Type": "application/json"})
	if code := errorCode(t, resp); code != "expires_in_too_long" {
		t.Fatalf("code %q, want expires_in_too_long", code)
	}
	var batch struct {
		URLs   map[string][]string
		Errors map[string]struct{ Code string }
	}
	ts.doJSON("POST", "/api/v1/images/urls", ts.token, map[string]any{"ids": []string{privID, pubID}, "variants": []string{"pr:thumb"}, "expires_in": week + 1}, 200, &batch)
	if batch.Errors[privID].Code != "expires_in_too_long" || len(batch.URLs[pubID]) != 1 {
		t.Fatalf("batch = %+v", batch)
	}

	short := startServer(t, func(c *config.Config) { c.Delivery.PrivateMaxTTL = config.Duration(3600e9) })
	_, out := short.upload(short.token, nil, filePart{"a.jpg", photo})
	short.doJSON("POST", "/api/v1/images/"+out.Results[0].Image.ID+"/urls", short.token, map[string]any{"variants": []string{"pr:thumb"}, "expires_in": 7200}, 400, nil)
}

func jsonReader(v any) io.Reader {
	b, _ := json.Marshal(v)
	return bytes.NewReader(b)
}
