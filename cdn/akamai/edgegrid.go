package akamai

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"
)

// Credentials are an Akamai API client's EdgeGrid credentials.
type Credentials struct {
	ClientToken, ClientSecret, AccessToken string
	// MaxBody is how much of a POST body the content hash covers; default
	// 131072, EdgeGrid's default.
	MaxBody int
	// HeadersToSign are the request headers included in the signature, in
	// this order; Fast Purge signs none.
	HeadersToSign []string
}

// TimestampFormat is EdgeGrid's timestamp: UTC, e.g. 20140321T19:34:21+0000.
const TimestampFormat = "20060102T15:04:05+0000"

// Sign returns the Authorization header of req with body, made at ts with
// nonce: EG1-HMAC-SHA256 client_token=…;access_token=…;timestamp=…;
// nonce=…;signature=…, where the signature is HMAC-SHA256 keyed by
// base64(HMAC-SHA256(client_secret, timestamp)) over the tab-joined
// method, scheme, host, path with query, signed headers, content hash and
// the header's own prefix.
func (c Credentials) Sign(req *http.Request, body []byte, ts time.Time, nonce string) string {
	stamp := ts.UTC().Format(TimestampFormat)
	prefix := "EG1-HMAC-SHA256 client_token=" + c.ClientToken + ";access_token=" + c.AccessToken +
		";timestamp=" + stamp + ";nonce=" + nonce + ";"
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	data := strings.Join([]string{
		strings.ToUpper(req.Method), strings.ToLower(req.URL.Scheme), strings.ToLower(host),
		req.URL.RequestURI(), c.canonicalHeaders(req.Header), c.contentHash(req.Method, body), prefix,
	}, "\t")
	key := hmacB64([]byte(c.ClientSecret), stamp)
	return prefix + "signature=" + hmacB64([]byte(key), data)
}

// canonicalHeaders is name:value for each signed header present, the
// name in lower case and the value trimmed with inner whitespace runs
// collapsed to one space.
func (c Credentials) canonicalHeaders(h http.Header) string {
	var parts []string
	for _, name := range c.HeadersToSign {
		v := h.Get(name)
		if v == "" {
			continue
		}
		parts = append(parts, strings.ToLower(name)+":"+strings.Join(strings.Fields(v), " "))
	}
	return strings.Join(parts, "\t")
}

// contentHash is base64(SHA-256) of a POST body's first MaxBody bytes, ""
// for other methods and empty bodies.
func (c Credentials) contentHash(method string, body []byte) string {
	if method != http.MethodPost || len(body) == 0 {
		return ""
	}
	maxBody := c.MaxBody
	if maxBody <= 0 {
		maxBody = 131072
	}
	sum := sha256.Sum256(body[:min(len(body), maxBody)])
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hmacB64(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
