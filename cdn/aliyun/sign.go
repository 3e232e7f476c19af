package aliyun

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Encode is the RPC signature's percent-encoding: RFC 3986, every byte but
// A-Z a-z 0-9 - _ . ~ as %XY (a space is %20, not +).
func Encode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

// Canonical is the canonicalised query: every parameter but Signature,
// sorted by name, as Encode(name)=Encode(value) joined by &.
func Canonical(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = Encode(k) + "=" + Encode(params.Get(k))
	}
	return strings.Join(parts, "&")
}

// Sign is the RPC signature V1: base64(HMAC-SHA1(secret + "&",
// method + "&" + Encode("/") + "&" + Encode(Canonical(params)))).
func Sign(method, secret string, params url.Values) string {
	sts := method + "&" + Encode("/") + "&" + Encode(Canonical(params))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(sts))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
