// Package vary merges values into a response's Vary header. Every part of
// the server that makes a response depend on a request header (CORS on
// Origin, format negotiation on Accept, ...) adds its field here instead of
// setting the header, so no part drops another's: a shared cache that lost
// "Origin" would replay one origin's Access-Control-Allow-Origin to
// another (issue 10, item 7).
package vary

import (
	"net/http"
	"strings"
)

// Add merges fields into h's Vary header: one header line holding every
// field once, compared case-insensitively, in the order first added. A "*"
// already present, or added, makes Vary "*" alone (the response varies on
// everything). Empty fields are ignored.
func Add(h http.Header, fields ...string) {
	have := existing(h)
	for _, f := range fields {
		f = strings.TrimSpace(f)
		if f == "" || contains(have, f) {
			continue
		}
		have = append(have, f)
	}
	if len(have) == 0 {
		return
	}
	if contains(have, "*") {
		have = []string{"*"}
	}
	h.Set("Vary", strings.Join(have, ", "))
}

// existing splits every Vary line of h into its fields, dropping repeats.
func existing(h http.Header) []string {
	var out []string
	for _, line := range h.Values("Vary") {
		for _, f := range strings.Split(line, ",") {
			if f = strings.TrimSpace(f); f != "" && !contains(out, f) {
				out = append(out, f)
			}
		}
	}
	return out
}

func contains(list []string, f string) bool {
	for _, g := range list {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}
