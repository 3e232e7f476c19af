package tus

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// baseURL returns scheme://host for absolute upload URLs: the configured
// public URL, else the request's, with X-Forwarded-Proto/Host honoured only
// when the peer is a trusted proxy.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return strings.TrimRight(h.cfg.PublicURL, "/")
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if h.trustedPeer(r) {
		if p := firstValue(r.Header.Get("X-Forwarded-Proto")); p == "http" || p == "https" {
			scheme = p
		}
		if fh := firstValue(r.Header.Get("X-Forwarded-Host")); fh != "" && validHost(fh) {
			host = fh
		}
	}
	return scheme + "://" + host
}

func (h *Handler) trustedPeer(r *http.Request) bool {
	if len(h.cfg.TrustedProxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range h.cfg.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// firstValue is the left-most entry of a comma-separated forwarded header.
func firstValue(v string) string {
	v, _, _ = strings.Cut(v, ",")
	return strings.TrimSpace(v)
}

func validHost(h string) bool {
	u, err := url.Parse("http://" + h)
	return err == nil && u.Host == h && u.User == nil && u.Path == ""
}

// uploadURL is the absolute URL of an upload.
func (h *Handler) uploadURL(r *http.Request, id string) string {
	return h.baseURL(r) + h.cfg.BasePath + id
}

// idFromURL returns the upload id named by an absolute or relative upload
// URL, or "" when it is not one of ours.
func (h *Handler) idFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	id, ok := strings.CutPrefix(u.Path, h.cfg.BasePath)
	if !ok || id == "" || strings.Contains(id, "/") {
		return ""
	}
	return id
}
