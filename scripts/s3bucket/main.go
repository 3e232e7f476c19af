// Command s3bucket makes sure a bucket exists on an S3-compatible server,
// using only the standard library (AWS Signature Version 4).
//
// scripts/services.sh runs it against the MinIO it starts for the tests: a
// signed PUT Bucket followed by a signed HEAD Bucket proves that the server
// is up and that the test credentials work. It retries while the server is
// still starting.
//
//	go run ./scripts/s3bucket -endpoint 127.0.0.1:9000 -access-key K -secret-key S -bucket B
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"
)

// emptySHA256 is the hex SHA-256 of an empty body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

type signer struct {
	accessKey, secretKey, region string
}

func main() {
	endpoint := flag.String("endpoint", "127.0.0.1:9000", "host:port of the S3 server (plain HTTP)")
	access := flag.String("access-key", "", "access key")
	secret := flag.String("secret-key", "", "secret key")
	bucket := flag.String("bucket", "", "bucket to create if missing")
	region := flag.String("region", "us-east-1", "signing region")
	wait := flag.Duration("wait", 30*time.Second, "how long to retry while the server starts")
	flag.Parse()
	if *access == "" || *secret == "" || *bucket == "" {
		fmt.Fprintln(os.Stderr, "s3bucket: -access-key, -secret-key and -bucket are required")
		os.Exit(2)
	}
	s := signer{*access, *secret, *region}
	ctx, cancel := context.WithTimeout(context.Background(), *wait)
	defer cancel()
	if err := ensure(ctx, s, "http://"+*endpoint+"/"+*bucket); err != nil {
		fmt.Fprintln(os.Stderr, "s3bucket:", err)
		os.Exit(1)
	}
	fmt.Printf("    ok: bucket %s on %s (signed PUT and HEAD)\n", *bucket, *endpoint)
}

// ensure creates the bucket unless it exists, then checks it with HEAD,
// retrying transport errors and 5xx answers until ctx ends.
func ensure(ctx context.Context, s signer, url string) error {
	for {
		err := try(ctx, s, url)
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func try(ctx context.Context, s signer, url string) error {
	put, err := do(ctx, s, http.MethodPut, url)
	if err != nil {
		return err
	}
	// 200: created; 409: BucketAlreadyOwnedByYou (or exists).
	if put != http.StatusOK && put != http.StatusConflict {
		return fmt.Errorf("PUT %s: status %d", url, put)
	}
	head, err := do(ctx, s, http.MethodHead, url)
	if err != nil {
		return err
	}
	if head != http.StatusOK {
		return fmt.Errorf("HEAD %s: status %d", url, head)
	}
	return nil
}

func do(ctx context.Context, s signer, method, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return 0, err
	}
	s.sign(req, time.Now().UTC())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// sign adds SigV4 headers for a request with an empty body. The query, if
// any, must be made of unreserved characters (as in "?lifecycle" or
// "?max-keys=2&prefix=J"); that is all this tool needs.
func (s signer) sign(req *http.Request, t time.Time) {
	amzDate := t.Format("20060102T150405Z")
	day := t.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := req.Method + "\n" + req.URL.EscapedPath() + "\n" +
		canonicalQuery(req.URL.Query()) + "\n" +
		"host:" + req.URL.Host + "\n" +
		"x-amz-content-sha256:" + emptySHA256 + "\n" +
		"x-amz-date:" + amzDate + "\n\n" +
		signed + "\n" + emptySHA256
	scope := day + "/" + s.region + "/s3/aws4_request"
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hexSHA256(canonical)
	key := hmacSHA256([]byte("AWS4"+s.secretKey), day)
	for _, part := range []string{s.region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+s.accessKey+"/"+scope+
		", SignedHeaders="+signed+", Signature="+sig)
}

// canonicalQuery sorts the parameters by name; a bare "lifecycle" becomes
// "lifecycle=".
func canonicalQuery(q url.Values) string {
	names := make([]string, 0, len(q))
	for name := range q {
		names = append(names, name)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		for _, v := range q[name] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(url.QueryEscape(name) + "=" + url.QueryEscape(v))
		}
	}
	return b.String()
}

func hexSHA256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func hmacSHA256(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
