package ratelimit_test

import (
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/ratelimit"
)

func TestWriteHeaders(t *testing.T) {
	cases := []struct {
		name string
		d    ratelimit.Decision
		want map[string]string // "" = header absent
	}{
		{"allowed", ratelimit.Decision{Allowed: true, Limit: 10, Remaining: 7, ResetAfter: 2500 * time.Millisecond},
			map[string]string{"RateLimit-Limit": "10", "RateLimit-Remaining": "7", "RateLimit-Reset": "3", "Retry-After": ""}},
		{"denied", ratelimit.Decision{Limit: 10, ResetAfter: time.Minute, RetryAfter: 6*time.Second + 1},
			map[string]string{"RateLimit-Limit": "10", "RateLimit-Remaining": "0", "RateLimit-Reset": "60", "Retry-After": "7"}},
		{"denied under a second says 1", ratelimit.Decision{Limit: 1, ResetAfter: 10 * time.Millisecond, RetryAfter: 10 * time.Millisecond},
			map[string]string{"RateLimit-Reset": "1", "Retry-After": "1"}},
		{"full bucket resets now", ratelimit.Decision{Allowed: true, Limit: 5, Remaining: 5},
			map[string]string{"RateLimit-Reset": "0", "RateLimit-Remaining": "5"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			ratelimit.WriteHeaders(h, tc.d)
			for k, v := range tc.want {
				if got := h.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestClientIP(t *testing.T) {
	tp, err := ratelimit.NewTrustedProxies([]string{"10.0.0.0/8", "2001:db8:ffff::/48", "192.0.2.1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		remote string
		xff    []string // header lines
		want   string
	}{
		{"untrusted peer: XFF ignored", "203.0.113.9:5555", []string{"1.1.1.1"}, "203.0.113.9"},
		{"untrusted peer, no XFF", "203.0.113.9:5555", nil, "203.0.113.9"},
		{"trusted peer, no XFF", "10.1.2.3:80", nil, "10.1.2.3"},
		{"trusted peer: right-most hop", "10.1.2.3:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"client-forged left hops are ignored", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.7"}, "198.51.100.7"},
		{"trusted hops are skipped", "10.1.2.3:80", []string{"6.6.6.6, 198.51.100.7, 10.9.9.9"}, "198.51.100.7"},
		{"several header lines in order", "10.1.2.3:80", []string{"6.6.6.6", "198.51.100.7", "10.9.9.9"}, "198.51.100.7"},
		{"single trusted host", "192.0.2.1:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"every hop trusted: left-most", "10.1.2.3:80", []string{"10.0.0.5, 10.0.0.6"}, "10.0.0.5"},
		{"malformed hop stops at last trusted", "10.1.2.3:80", []string{"198.51.100.7, unknown, 10.0.0.6"}, "10.0.0.6"},
		{"malformed right-most hop: the peer", "10.1.2.3:80", []string{"garbage"}, "10.1.2.3"},
		{"hop with port", "10.1.2.3:80", []string{"198.51.100.7:4711"}, "198.51.100.7"},
		{"IPv6 peer trusted, IPv6 hop with brackets", "[2001:db8:ffff::1]:443", []string{"[2001:db8:1::5]:1234"}, "2001:db8:1::5"},
		{"IPv4-mapped peer counts as IPv4", "[::ffff:10.1.2.3]:80", []string{"198.51.100.7"}, "198.51.100.7"},
		{"IPv4-mapped hop is unmapped", "10.1.2.3:80", []string{"::ffff:198.51.100.7"}, "198.51.100.7"},
		{"untrusted IPv6 peer", "[2001:db8:1::1]:443", []string{"1.1.1.1"}, "2001:db8:1::1"},
		{"spaces and empty hops", "10.1.2.3:80", []string{" 198.51.100.7 ,10.0.0.1 "}, "198.51.100.7"},
		{"unusable RemoteAddr", "@", []string{"1.1.1.1"}, "invalid IP"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &http.Request{RemoteAddr: tc.remote, Header: http.Header{}}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := tp.ClientIP(r).String(); got != tc.want {
				t.Errorf("ClientIP = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestTrustNoOne(t *testing.T) {
	tp, err := ratelimit.NewTrustedProxies(nil)
	if err != nil {
		t.Fatal(err)
	}
	r := &http.Request{RemoteAddr: "127.0.0.1:1", Header: http.Header{"X-Forwarded-For": {"1.1.1.1"}}}
	if got := tp.ClientIP(r).String(); got != "127.0.0.1" {
		t.Errorf("ClientIP = %s, want the peer", got)
	}
}

func TestNewTrustedProxiesRejects(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "example.com", ""} {
		if _, err := ratelimit.NewTrustedProxies([]string{bad}); err == nil {
			t.Errorf("NewTrustedProxies(%q) succeeded", bad)
		}
	}
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"198.51.100.7":          "198.51.100.7",
		"::ffff:198.51.100.7":   "198.51.100.7",
		"2001:db8:1:2:3:4:5:6":  "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::99": "2001:db8:1:2::/64",
	} {
		if got := ratelimit.IPKey(netip.MustParseAddr(in)); got != want {
			t.Errorf("IPKey(%s) = %s, want %s", in, got, want)
		}
	}
	if got := ratelimit.IPKey(netip.Addr{}); got != "unknown" {
		t.Errorf("IPKey(zero) = %s", got)
	}
}

func FuzzClientIP(f *testing.F) {
	f.Add("10.1.2.3:80", "6.6.6.6, 198.51.100.7, 10.9.9.9")
	f.Add("[::ffff:10.1.2.3]:80", "[2001:db8::1]:5, unknown")
	tp, _ := ratelimit.NewTrustedProxies([]string{"10.0.0.0/8", "::1/128"})
	f.Fuzz(func(t *testing.T, remote, xff string) {
		r := &http.Request{RemoteAddr: remote, Header: http.Header{"X-Forwarded-For": {xff}}}
		got := tp.ClientIP(r)
		peer, _ := netip.ParseAddrPort(remote)
		if peer.IsValid() && !tp.Trusted(peer.Addr()) && got != peer.Addr().Unmap().WithZone("") {
			t.Fatalf("untrusted peer %s, but ClientIP = %s", remote, got)
		}
		if got.IsValid() && got.Zone() != "" {
			t.Fatalf("zone kept: %s", got)
		}
	})
}
