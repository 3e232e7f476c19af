package tus

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// ChecksumAlgorithms are the Upload-Checksum algorithms, in the order
// announced by Tus-Checksum-Algorithm.
var ChecksumAlgorithms = []string{"sha1", "md5", "sha256", "sha512"}

func newHash(alg string) hash.Hash {
	switch alg {
	case "sha1":
		return sha1.New()
	case "md5":
		return md5.New()
	case "sha256":
		return sha256.New()
	case "sha512":
		return sha512.New()
	}
	return nil
}

// checksum verifies one request body against Upload-Checksum, sent as a
// header or as a trailer (checksum-trailer). In trailer mode the algorithm
// is only known at the end, so every algorithm is computed.
type checksum struct {
	trailer bool
	alg     string
	want    []byte
	hashes  map[string]hash.Hash
}

// parseChecksum returns nil when the request carries no checksum.
func parseChecksum(r *http.Request) (*checksum, error) {
	v, ok, err := singleHeader(r.Header, "Upload-Checksum")
	if err != nil {
		return nil, err
	}
	if ok {
		c, err := checksumValue(v)
		if err != nil {
			return nil, err
		}
		c.hashes = map[string]hash.Hash{c.alg: newHash(c.alg)}
		return c, nil
	}
	if _, announced := r.Trailer["Upload-Checksum"]; announced {
		c := &checksum{trailer: true, hashes: map[string]hash.Hash{}}
		for _, a := range ChecksumAlgorithms {
			c.hashes[a] = newHash(a)
		}
		return c, nil
	}
	return nil, nil
}

// checksumValue parses "<algorithm> <base64 digest>".
func checksumValue(v string) (*checksum, error) {
	alg, enc, ok := strings.Cut(v, " ")
	if !ok || alg == "" {
		return nil, invalid("invalid_checksum", "Upload-Checksum must be \"<algorithm> <base64 digest>\"")
	}
	h := newHash(alg)
	if h == nil {
		return nil, invalid("unsupported_checksum_algorithm", "checksum algorithm %q is not supported; use one of %s",
			truncate(alg, 20), strings.Join(ChecksumAlgorithms, ", "))
	}
	want, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || len(want) != h.Size() {
		return nil, invalid("invalid_checksum", "the %s checksum is not a base64 digest of %d bytes", alg, h.Size())
	}
	return &checksum{alg: alg, want: want}, nil
}

// writer is where the body's bytes are hashed.
func (c *checksum) writer() io.Writer {
	ws := make([]io.Writer, 0, len(c.hashes))
	for _, h := range c.hashes {
		ws = append(ws, h)
	}
	return io.MultiWriter(ws...)
}

// verify checks the digest once the whole body (and any trailer) is read.
func (c *checksum) verify(r *http.Request) error {
	if c.trailer {
		v := r.Trailer.Get("Upload-Checksum")
		if v == "" {
			return invalid("invalid_checksum", "the announced Upload-Checksum trailer was not sent")
		}
		parsed, err := checksumValue(v)
		if err != nil {
			return err
		}
		c.alg, c.want = parsed.alg, parsed.want
	}
	got := c.hashes[c.alg].Sum(nil)
	if subtle.ConstantTimeCompare(got, c.want) != 1 {
		return imgmgr.Errorf(imgmgr.KindChecksumMismatch, "checksum_mismatch",
			"the %s checksum of the body does not match Upload-Checksum", c.alg)
	}
	return nil
}
