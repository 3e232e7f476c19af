package clamd

import (
	"testing"

	"github.com/imgmgr/imgmgr"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		reply    string
		infected bool
		sig      string
		kind     imgmgr.Kind // KindInternal = no error expected
		code     string
	}{
		{"stream: OK", false, "", 0, ""},
		{"stream: OK\x00", false, "", 0, ""},
		{"stream: OK\n", false, "", 0, ""},
		{"stream: Eicar-Signature FOUND", true, "Eicar-Signature", 0, ""},
		{"stream: Imgmgr.Test.EICAR.UNOFFICIAL FOUND\x00", true, "Imgmgr.Test.EICAR.UNOFFICIAL", 0, ""},
		{"1: stream: Win.Test.EICAR_HDB-1 FOUND", true, "Win.Test.EICAR_HDB-1", 0, ""},
		{"stream: bad\x01name FOUND", true, "bad_name", 0, ""},
		{"stream:  FOUND", true, "unknown", 0, ""},
		{"INSTREAM size limit exceeded. ERROR", false, "", imgmgr.KindTooLarge, "scan_size_limit"},
		{"stream: Can't allocate memory ERROR", false, "", imgmgr.KindUnavailable, "scanner_error"},
		{"UNKNOWN COMMAND", false, "", imgmgr.KindUnavailable, "scanner_error"},
		{"", false, "", imgmgr.KindUnavailable, "scanner_error"},
	}
	for _, tc := range cases {
		res, err := parseReply(tc.reply)
		if tc.code != "" {
			if imgmgr.KindOf(err) != tc.kind || imgmgr.CodeOf(err) != tc.code {
				t.Errorf("parseReply(%q) err = %v, want kind %v code %s", tc.reply, err, tc.kind, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseReply(%q): %v", tc.reply, err)
			continue
		}
		if res.Infected != tc.infected || res.Signature != tc.sig {
			t.Errorf("parseReply(%q) = %+v, want infected=%v sig=%q", tc.reply, res, tc.infected, tc.sig)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK", "stream: X FOUND", "INSTREAM size limit exceeded. ERROR", "a: b: c FOUND", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reply string) {
		res, err := parseReply(reply)
		if err != nil {
			if res.Infected {
				t.Fatal("error with an infected verdict")
			}
			if k := imgmgr.KindOf(err); k != imgmgr.KindTooLarge && k != imgmgr.KindUnavailable {
				t.Fatalf("kind %v", k)
			}
			return
		}
		if res.Infected == (res.Signature == "") {
			t.Fatalf("verdict %+v: an infected result needs a signature, a clean one none", res)
		}
		if len(res.Signature) > 128 {
			t.Fatalf("signature of %d bytes", len(res.Signature))
		}
		for _, c := range []byte(res.Signature) {
			if c <= ' ' || c >= 0x7f {
				t.Fatalf("signature %q has byte %#x", res.Signature, c)
			}
		}
	})
}
