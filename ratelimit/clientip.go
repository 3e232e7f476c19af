package ratelimit

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// TrustedProxies says whose X-Forwarded-For to believe.
type TrustedProxies struct {
	nets []netip.Prefix
}

// NewTrustedProxies parses CIDRs ("10.0.0.0/8", "::1/128"); a bare address
// is taken as a single host. An empty list trusts no one.
func NewTrustedProxies(cidrs []string) (*TrustedProxies, error) {
	t := &TrustedProxies{}
	for _, c := range cidrs {
		c = strings.TrimSpace(c)
		p, err := netip.ParsePrefix(c)
		if err != nil {
			a, aerr := netip.ParseAddr(c)
			if aerr != nil {
				return nil, fmt.Errorf("server.trusted_proxies: %q is not a CIDR or an address", c)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		t.nets = append(t.nets, p.Masked())
	}
	return t, nil
}

// Trusted reports whether a is one of the trusted proxies.
func (t *TrustedProxies) Trusted(a netip.Addr) bool {
	a = a.Unmap().WithZone("")
	for _, p := range t.nets {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ClientIP returns the address of the client that made r. The peer
// (r.RemoteAddr) is the answer unless it is a trusted proxy; then
// X-Forwarded-For is read from the right, skipping trusted proxies, and the
// first address not trusted is the client. Entries left of it were written
// by the client and are never believed. When every hop is trusted the
// left-most is returned; a malformed hop stops the walk at the last
// trusted address. The zero Addr means RemoteAddr itself was unusable.
func (t *TrustedProxies) ClientIP(r *http.Request) netip.Addr {
	peer := parseHost(r.RemoteAddr)
	if !peer.IsValid() || !t.Trusted(peer) {
		return peer
	}
	hops := forwardedFor(r.Header)
	client := peer
	for i := len(hops) - 1; i >= 0; i-- {
		a := parseHost(hops[i])
		if !a.IsValid() {
			return client
		}
		client = a
		if !t.Trusted(a) {
			return a
		}
	}
	return client
}

// forwardedFor lists the X-Forwarded-For hops of every such header line,
// in order.
func forwardedFor(h http.Header) []string {
	var hops []string
	for _, line := range h.Values("X-Forwarded-For") {
		for _, hop := range strings.Split(line, ",") {
			hops = append(hops, strings.TrimSpace(hop))
		}
	}
	return hops
}

// parseHost reads "1.2.3.4", "1.2.3.4:5678", "::1", "[::1]:5678"; IPv4 in
// IPv6 is unmapped and zones are dropped.
func parseHost(s string) netip.Addr {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().WithZone("")
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().WithZone("")
	}
	if host, _, err := net.SplitHostPort(s); err == nil {
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			return a.Unmap().WithZone("")
		}
	}
	return netip.Addr{}
}

// IPKey is the rate-limit key of a client address: the address itself for
// IPv4, its /64 network for IPv6 (one subscriber usually holds a whole /64,
// so single addresses would be free to rotate). "unknown" for the zero Addr.
func IPKey(a netip.Addr) string {
	if !a.IsValid() {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.WithZone("").Prefix(64)
		return p.String()
	}
	return a.String()
}
