package variant

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
)

// Key is one signing key/salt pair, hex-encoded as in config.
type Key struct {
	Key  string `json:"key"`
	Salt string `json:"salt"`
}

type keyPair struct{ key, salt []byte }

// Signer signs and verifies variant URL paths exactly as imgproxy does:
// base64url_nopad(HMAC-SHA256(key, salt || path)[:size]), where path is
// everything after the signature segment, leading "/" included. The first
// pair signs; every pair verifies (key rotation). Safe for concurrent use.
type Signer struct {
	pairs   []keyPair
	size    int
	prefix  string
	presets Presets
	now     func() time.Time
	maxPriv time.Duration // PrivateMaxTTL
}

// SignerConfig configures a Signer.
type SignerConfig struct {
	Keys          []Key
	SignatureSize int     // bytes of the HMAC kept, 1..32; default 32
	Prefix        string  // URL path prefix; default "/img"
	Presets       Presets // to check pr: options when signing
	// PrivateTTL is the expiry given to URLs of private images signed
	// without one: they are reachable only through expiring URLs.
	// Default 1h.
	PrivateTTL time.Duration
	// PrivateMaxTTL is the longest expiry a private image's URL may be
	// signed with; SignImage refuses a longer one (a leaked URL must not
	// open a private image for years). Default DefaultPrivateMaxTTL.
	PrivateMaxTTL time.Duration
}

// DefaultPrivateMaxTTL is the default SignerConfig.PrivateMaxTTL.
const DefaultPrivateMaxTTL = 7 * 24 * time.Hour

// NewSigner decodes the keys. At least one pair is required.
func NewSigner(cfg SignerConfig) (*Signer, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("delivery.keys: at least one key/salt pair is required")
	}
	size := cfg.SignatureSize
	if size == 0 {
		size = sha256.Size
	}
	if size < 1 || size > sha256.Size {
		return nil, errors.New("delivery.signature_size: must be 1..32")
	}
	s := &Signer{size: size, prefix: strings.TrimSuffix(cfg.Prefix, "/"), presets: cfg.Presets, now: time.Now, maxPriv: cfg.PrivateMaxTTL}
	if s.maxPriv <= 0 {
		s.maxPriv = DefaultPrivateMaxTTL
	}
	if s.prefix == "" {
		s.prefix = "/img"
	}
	for i, k := range cfg.Keys {
		key, err1 := hex.DecodeString(k.Key)
		salt, err2 := hex.DecodeString(k.Salt)
		if err1 != nil || err2 != nil || len(key) == 0 {
			return nil, fmt.Errorf("delivery.keys[%d]: key and salt must be hex (key not empty)", i)
		}
		s.pairs = append(s.pairs, keyPair{key, salt})
	}
	return s, nil
}

func (s *Signer) mac(p keyPair, path string) []byte {
	m := hmac.New(sha256.New, p.key)
	m.Write(p.salt)
	m.Write([]byte(path))
	return m.Sum(nil)[:s.size]
}

// Signature is the signature of path (which starts with "/") under the
// first key pair.
func (s *Signer) Signature(path string) string {
	return base64.RawURLEncoding.EncodeToString(s.mac(s.pairs[0], path))
}

// Verify checks sig against path under every key pair, in constant time
// per pair. A bad signature gives a KindPermission error.
func (s *Signer) Verify(sig, path string) error {
	got, err := base64.RawURLEncoding.DecodeString(sig)
	ok := false
	if err == nil {
		for _, p := range s.pairs {
			ok = hmac.Equal(got, s.mac(p, path)) || ok
		}
	}
	if !ok {
		return imgmgr.Errorf(imgmgr.KindPermission, "invalid_signature", "the URL signature is not valid")
	}
	return nil
}

// Sign returns the URL path of a variant: prefix/signature/options/
// [exp:T/]imageID[.ext]. options is checked with the grammar (a bad one is
// a KindInvalid error); ext "" leaves the format to negotiation;
// expiresIn > 0 adds an exp: option that far from now.
func (s *Signer) Sign(options, imageID, ext string, expiresIn time.Duration) (string, error) {
	segs := splitPath(options)
	if expiresIn > 0 {
		segs = append(segs, fmt.Sprintf("exp:%d", s.now().Add(expiresIn).Unix()))
	}
	if _, err := Parse(segs, s.presets); err != nil {
		return "", err
	}
	if err := checkID(imageID); err != nil {
		return "", err
	}
	rest := "/" + strings.Join(append(segs, imageID), "/")
	if ext != "" {
		f, err := ParseFormat(ext)
		if err != nil {
			return "", err
		}
		rest += "." + Extension(f)
	}
	return s.prefix + "/" + s.Signature(rest) + rest, nil
}

// SignImage is Sign for an image: a private image's URL always expires
// (after ttl, or privateTTL when ttl is 0), and a ttl past PrivateMaxTTL
// is refused with KindInvalid code "expires_in_too_long" rather than
// clamped, so a client never holds a URL that dies sooner than it asked
// without knowing (issue 10, item 13: private URLs could be signed for
// ten years). Public images' URLs are not capped.
func (s *Signer) SignImage(im *imgmgr.Image, options, ext string, ttl, privateTTL time.Duration) (string, error) {
	if im.Visibility != imgmgr.Public {
		if ttl <= 0 {
			ttl = min(privateTTL, s.maxPriv)
			if ttl <= 0 {
				ttl = time.Hour
			}
		}
		if ttl > s.maxPriv {
			return "", imgmgr.Errorf(imgmgr.KindInvalid, "expires_in_too_long",
				"URLs of private images expire within at most %d seconds (delivery.private_max_ttl)", int64(s.maxPriv/time.Second))
		}
	}
	return s.Sign(options, im.ID, ext, ttl)
}

func checkID(id string) error {
	if id == "" || strings.ContainsAny(id, "/.:?#% ") {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_image_id", "malformed image id")
	}
	return nil
}
