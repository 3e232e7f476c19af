package s3stage

import (
	"encoding/base64"
	"encoding/binary"
	"hash"
	"hash/crc32"
	"io"
	"net/http"

	"github.com/minio/minio-go/v7"
)

// Integrity of the bytes sent. Over plain HTTP minio-go would sign every
// payload with SHA-256 (and S3 verify it), which costs more CPU than the
// rest of staging together. Instead every body goes unsigned
// (UNSIGNED-PAYLOAD, or STREAMING-UNSIGNED-PAYLOAD-TRAILER for a part
// streamed while its bytes arrive) with its CRC32C in x-amz-checksum-crc32c,
// as a header when the bytes are in memory and as a trailer when they are
// streamed. S3 (AWS and MinIO) refuses a body whose CRC32C differs, so a
// body corrupted on the way is still never stored. The request itself
// stays signed.

// crcHeader is the header (or trailer) S3 checks a body's CRC32C against.
const crcHeader = "X-Amz-Checksum-Crc32c"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// crc32c is the base64 CRC32C of b, as S3 expects it.
func crc32c(b []byte) string { return crcString(crc32.Checksum(b, castagnoli)) }

func crcString(sum uint32) string {
	return base64.StdEncoding.EncodeToString(binary.BigEndian.AppendUint32(nil, sum))
}

// putOpts are the options of a one-request PUT of b.
func putOpts(b []byte, contentType string) minio.PutObjectOptions {
	return minio.PutObjectOptions{ContentType: contentType, DisableContentSha256: true,
		UserMetadata: map[string]string{crcHeader: crc32c(b)}}
}

// partOpts are the options of a part upload of b, held in memory.
func partOpts(b []byte) minio.PutObjectPartOptions {
	return minio.PutObjectPartOptions{DisableContentSha256: true,
		CustomHeader: http.Header{crcHeader: {crc32c(b)}}}
}

// streamPartOpts are the options of a part upload whose body is r: the
// CRC32C travels as a trailer that r fills in when it reaches its end.
func streamPartOpts(r *crcReader) minio.PutObjectPartOptions {
	return minio.PutObjectPartOptions{DisableContentSha256: true, Trailer: r.trailer}
}

// crcReader passes a body through while computing its CRC32C, and sets
// the trailer when the body ends. Seeking to the start (a retry) starts
// the sum over.
type crcReader struct {
	r       io.ReadSeeker
	h       hash.Hash32
	trailer http.Header
}

func newCRCReader(r io.ReadSeeker) *crcReader {
	// minio-go sizes the request from the trailer's placeholder, so it has
	// the length of a real value.
	return &crcReader{r: r, h: crc32.New(castagnoli), trailer: http.Header{crcHeader: {crcString(0)}}}
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		c.trailer.Set(crcHeader, crcString(c.h.Sum32()))
	}
	return n, err
}

func (c *crcReader) Seek(offset int64, whence int) (int64, error) {
	n, err := c.r.Seek(offset, whence)
	if err == nil && n == 0 {
		c.h.Reset()
	}
	return n, err
}
