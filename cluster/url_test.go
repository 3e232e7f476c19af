package cluster

import (
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url, want string
	}{
		{"redis://127.0.0.1:6379/0", "tcp 127.0.0.1:6379"},
		{"redis://user:secret@10.0.0.5/2", "tcp 10.0.0.5:6379"},
		{"rediss://cache.example:6380", "tcp cache.example:6380"},
		{"unix:///run/redis.sock?db=1", "unix /run/redis.sock"},
		{"redis://s1:26379/0?master_name=mymaster&addr=s2:26379&addr=s3:26379", "sentinel master mymaster via s1:26379,s2:26379,s3:26379"},
		{"redis://:pw@s1:26379?master_name=m&password=masterpw", "sentinel master m via s1:26379"},
		{"redis://n1:7000?addr=n2:7000&addr=n3:7000", "cluster n1:7000,n2:7000,n3:7000"},
		{"rediss://n1:7000?cluster=true", "cluster n1:7000"},
	} {
		tg, err := ParseURL(c.url)
		if err != nil {
			t.Errorf("%s: %v", c.url, err)
			continue
		}
		if got := tg.String(); got != c.want {
			t.Errorf("%s: %q, want %q", c.url, got, c.want)
		}
		cl := tg.client() // builds without dialling
		cl.Close()
	}
	for _, bad := range []string{"http://x", "redis://h:1/x", "redis://h?cluster=yes", "redis://h:1/3?addr=h2:1",
		"redis://h?bogus=1", "redis://h?master_name=m&bogus=1", "redis://h?addr=nope"} {
		if _, err := ParseURL(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// The configured timeouts apply where the URL sets none, and retries are
// off; what the URL says wins.
func TestTuneTimeouts(t *testing.T) {
	cfg := Config{URL: "x"}
	cfg.setDefaults()
	for _, u := range []string{"redis://h:1", "redis://h:1?master_name=m", "redis://h:1?cluster=true"} {
		tg, _ := ParseURL(u)
		tg.tune(cfg)
		k := tg.knobs()
		if *k.dial != 200*time.Millisecond || *k.read != 200*time.Millisecond || *k.write != 200*time.Millisecond ||
			*k.retries != -1 || *k.dialRetries != 1 {
			t.Errorf("%s: dial %v read %v write %v retries %d dial retries %d", u, *k.dial, *k.read, *k.write, *k.retries, *k.dialRetries)
		}
	}
	tg, _ := ParseURL("redis://h:1?dial_timeout=1s&max_retries=2")
	tg.tune(cfg)
	if k := tg.knobs(); *k.dial != time.Second || *k.retries != 2 {
		t.Errorf("the URL's own settings were overridden: dial %v retries %d", *k.dial, *k.retries)
	}
}
