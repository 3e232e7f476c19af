package variant

import (
	"strconv"
	"strings"
)

// DefaultFormatOrder is the preference when a URL names no format.
var DefaultFormatOrder = []string{"avif", "webp"}

// Negotiate picks the output format for a URL without an extension or f:
// the first of order (default AVIF, then WebP) that accept allows, else
// JPEG, or PNG when the image has alpha. Animations choose among WebP and
// GIF only, so they stay animated.
func Negotiate(accept string, order []string, alpha, animated bool) string {
	if len(order) == 0 {
		order = DefaultFormatOrder
	}
	accepted := parseAccept(accept)
	if animated {
		if accepted["image/webp"] {
			return "webp"
		}
		return "gif"
	}
	for _, f := range order {
		if accepted["image/"+f] {
			return f
		}
	}
	if alpha {
		return "png"
	}
	return "jpeg"
}

// Accepts reports whether accept allows format explicitly (JPEG, PNG and
// GIF are always accepted: every client shows them).
func Accepts(accept, format string) bool {
	switch format {
	case "jpeg", "png", "gif":
		return true
	}
	return parseAccept(accept)["image/"+format]
}

// parseAccept returns the media types with a non-zero q. Wildcards are
// ignored on purpose: "*/*" does not mean a client decodes AVIF.
func parseAccept(accept string) map[string]bool {
	m := map[string]bool{}
	for _, part := range strings.Split(accept, ",") {
		fields := strings.Split(part, ";")
		mt := strings.ToLower(strings.TrimSpace(fields[0]))
		q := 1.0
		for _, p := range fields[1:] {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.TrimSpace(k) == "q" {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if mt != "" && q > 0 {
			m[mt] = true
		}
	}
	return m
}
