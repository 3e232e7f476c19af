package aliyun

import (
	"net/url"
	"testing"
)

// TestSignDocumentedExample is the worked example of Alibaba Cloud's RPC
// signature documentation: DescribeRegions by GET with AccessKeyId testid,
// signed with "testsecret&", gives OLeaidS1JvxuMvnyHOwuJ+uX5qY=. (The
// CT9X0V... signature at the top of that page is a placeholder in an
// illustrative URL, not the result of these parameters.)
func TestSignDocumentedExample(t *testing.T) {
	p := url.Values{
		"Action": {"DescribeRegions"}, "Format": {"XML"}, "Version": {"2014-05-26"}, "AccessKeyId": {"testid"},
		"SignatureMethod": {"HMAC-SHA1"}, "SignatureVersion": {"1.0"}, "Timestamp": {"2016-02-23T12:46:24Z"},
		"SignatureNonce": {"3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf"},
	}
	if got, want := Sign("GET", "testsecret", p), "OLeaidS1JvxuMvnyHOwuJ+uX5qY="; got != want {
		t.Fatalf("signature %s, want %s (string to sign from %s)", got, want, Canonical(p))
	}
}

func TestEncode(t *testing.T) {
	for in, want := range map[string]string{"a b": "a%20b", "a*b": "a%2Ab", "a~b": "a~b", "/": "%2F", "\n": "%0A"} {
		if got := Encode(in); got != want {
			t.Errorf("Encode(%q) = %q, want %q", in, got, want)
		}
	}
}
