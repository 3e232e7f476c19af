package variant

import (
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr"
)

func hexs(s string) string { return hex.EncodeToString([]byte(s)) }

func signer(t *testing.T, size int, pairs ...Key) *Signer {
	t.Helper()
	s, err := NewSigner(SignerConfig{Keys: pairs, SignatureSize: size})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// imgproxy's own signature test vectors (security/signature_test.go and
// the older crypt_test.go): key "test-key", salt "test-salt".
func TestImgproxyVectors(t *testing.T) {
	k1 := Key{Key: hexs("test-key"), Salt: hexs("test-salt")}
	k2 := Key{Key: hexs("test-key2"), Salt: hexs("test-salt2")}
	tests := []struct {
		name  string
		size  int
		pairs []Key
		path  string
		sig   string
		valid bool
	}{
		{"full", 32, []Key{k1}, "asd", "dtLwhdnPPiu_epMl1LrzheLpvHas-4mwvY6L3Z8WwlY", true},
		{"full qwe", 32, []Key{k1}, "qwe", "8x1xvzxVqZ3Uz3kEC8gVvBfU0dfU1vKv0Gho8m3Ysgw", true},
		{"truncated", 8, []Key{k1}, "asd", "dtLwhdnPPis", true},
		{"truncated qwe", 8, []Key{k1}, "qwe", "8x1xvzxVqZ0", true},
		{"truncated sig, full size", 32, []Key{k1}, "asd", "dtLwhdnPPis", false},
		{"rotation: first pair", 32, []Key{k1, k2}, "asd", "dtLwhdnPPiu_epMl1LrzheLpvHas-4mwvY6L3Z8WwlY", true},
		{"rotation: second pair", 32, []Key{k1, k2}, "asd", "jbDffNPt1-XBgDccsaE-XJB9lx8JIJqdeYIZKgOqZpg", true},
		{"rotation: truncated", 32, []Key{k1, k2}, "asd", "dtLwhdnPPis", false},
		{"other path", 32, []Key{k1}, "asdf", "dtLwhdnPPiu_epMl1LrzheLpvHas-4mwvY6L3Z8WwlY", false},
		// The worked example on imgproxy's "Signing a URL" documentation page.
		{"docs example", 32, []Key{{Key: "736563726574", Salt: "68656C6C6F"}},
			"/rs:fill:300:400:0/g:sm/aHR0cDovL2V4YW1w/bGUuY29tL2ltYWdl/cy9jdXJpb3NpdHku/anBn.png",
			"oKfUtW34Dvo2BGQehJFR4Nr0_rIjOtdtzJ3QFsUcXH8", true},
		{"not base64", 32, []Key{k1}, "asd", "dtLwhdnPPiu_epMl1LrzheLpvHas-4mwvY6L3Z8Wwl!", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := signer(t, tt.size, tt.pairs...)
			err := s.Verify(tt.sig, tt.path)
			if (err == nil) != tt.valid {
				t.Fatalf("Verify(%q, %q) = %v, want valid=%v", tt.sig, tt.path, err, tt.valid)
			}
			if !tt.valid && imgmgr.KindOf(err) != imgmgr.KindPermission {
				t.Errorf("kind %s, want permission", imgmgr.KindOf(err))
			}
			if tt.valid && len(tt.pairs) == 1 && s.Signature(tt.path) != tt.sig {
				t.Errorf("Signature(%q) = %q, want %q", tt.path, s.Signature(tt.path), tt.sig)
			}
		})
	}
}

func TestSignRoundTrip(t *testing.T) {
	s := signer(t, 32, Key{Key: hexs("secret"), Salt: hexs("hello")})
	s.now = func() time.Time { return time.Unix(1700000000, 0) }
	u, err := s.Sign("rs:fill:300:400/g:sm", "01HX", "webp", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	want := "/rs:fill:300:400/g:sm/exp:1700003600/01HX.webp"
	if !strings.HasPrefix(u, "/img/") || !strings.HasSuffix(u, want) {
		t.Fatalf("Sign = %q, want /img/<sig>%s", u, want)
	}
	sig, rest, _ := strings.Cut(strings.TrimPrefix(u, "/img/"), "/")
	if err := s.Verify(sig, "/"+rest); err != nil {
		t.Errorf("own signature refused: %v", err)
	}
	tampered := strings.Replace("/"+rest, "300", "301", 1)
	if err := s.Verify(sig, tampered); err == nil {
		t.Error("tampered path accepted")
	}
	if err := s.Verify(sig[:10], "/"+rest); err == nil {
		t.Error("truncated signature accepted")
	}
	for _, bad := range []struct{ opts, id, ext string }{{"rs:nope", "x", ""}, {"", "a/b", ""}, {"", "x", "bmp"}} {
		if _, err := s.Sign(bad.opts, bad.id, bad.ext, 0); imgmgr.KindOf(err) != imgmgr.KindInvalid {
			t.Errorf("Sign(%q, %q, %q) = %v, want invalid", bad.opts, bad.id, bad.ext, err)
		}
	}
}

func TestSignImagePrivateExpires(t *testing.T) {
	s := signer(t, 32, Key{Key: hexs("k"), Salt: hexs("s")})
	priv := &imgmgr.Image{ID: "p1", Visibility: imgmgr.Private}
	pub := &imgmgr.Image{ID: "p2", Visibility: imgmgr.Public}
	u, _ := s.SignImage(priv, "w:100", "", 0, 0)
	if !strings.Contains(u, "/exp:") {
		t.Errorf("private image URL without expiry: %s", u)
	}
	u, _ = s.SignImage(pub, "w:100", "", 0, 0)
	if strings.Contains(u, "/exp:") {
		t.Errorf("public image URL got an expiry: %s", u)
	}
}
