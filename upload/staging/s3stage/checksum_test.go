package s3stage

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"io"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// corrupter flips a bit of the first byte it passes on: bytes damaged
// after their checksum was computed, as on a faulty path to S3.
type corrupter struct {
	r    io.Reader
	done bool
}

func (c *corrupter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 && !c.done {
		p[0] ^= 1
		c.done = true
	}
	return n, err
}

func checksumStore(t *testing.T) *Store {
	t.Helper()
	srv := testenv.S3Server(t)
	b := make([]byte, 6)
	crand.Read(b)
	s, err := New(context.Background(), Config{Endpoint: srv.Endpoint, Bucket: srv.Bucket, AccessKey: srv.AccessKey,
		SecretKey: srv.SecretKey, Prefix: "s3stage-crc-" + hex.EncodeToString(b) + "/"})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Payloads go unsigned, so the CRC32C is what keeps a damaged body out: the
// real S3 (MinIO here) must refuse a body that does not match it, whether
// the checksum came as a header (parts and objects held in memory) or as a
// trailer (parts streamed while their bytes arrive), and take one that does.
func TestChecksumRefusesDamagedBodies(t *testing.T) {
	ctx := context.Background()
	s := checksumStore(t)
	data := bytes.Repeat([]byte("0123456789abcdef"), 5<<16) // 5 MiB, a valid part
	key := s.key("crc", ".bin")
	uploadID, err := s.c.NewMultipartUpload(ctx, s.cfg.Bucket, key, minio.PutObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.c.AbortMultipartUpload(ctx, s.cfg.Bucket, key, uploadID)
		s.c.RemoveObject(ctx, s.cfg.Bucket, s.key("obj", ""), minio.RemoveObjectOptions{})
	})
	part := func(body io.Reader, opts minio.PutObjectPartOptions) error {
		_, err := s.c.PutObjectPart(ctx, s.cfg.Bucket, key, uploadID, 1, body, int64(len(data)), opts)
		return err
	}
	streamed := func(damage bool) error {
		r := newCRCReader(bytes.NewReader(data))
		var body io.Reader = r
		if damage {
			body = &corrupter{r: r}
		}
		return part(body, streamPartOpts(r))
	}
	put := func(body io.Reader) error {
		_, err := s.c.PutObject(ctx, s.cfg.Bucket, s.key("obj", ""), body, int64(len(data)), "", "",
			putOpts(data, "application/octet-stream"))
		return err
	}
	for _, tc := range []struct {
		name string
		err  error
		ok   bool
	}{
		{"part, header", part(bytes.NewReader(data), partOpts(data)), true},
		{"damaged part, header", part(&corrupter{r: bytes.NewReader(data)}, partOpts(data)), false},
		{"part, trailer", streamed(false), true},
		{"damaged part, trailer", streamed(true), false},
		{"object", put(bytes.NewReader(data)), true},
		{"damaged object", put(&corrupter{r: bytes.NewReader(data)}), false},
	} {
		if tc.ok && tc.err != nil {
			t.Errorf("%s: %v", tc.name, tc.err)
		}
		if !tc.ok && tc.err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
		if !tc.ok && tc.err != nil {
			t.Logf("%s: refused: %v", tc.name, tc.err)
		}
	}
}
