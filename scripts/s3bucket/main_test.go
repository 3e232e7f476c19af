package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// The examples of AWS's "Signature Calculations for the Authorization Header"
// page for S3 (GET Bucket Lifecycle, GET Bucket with a query), whose
// requests carry exactly the headers this tool signs.
func TestSignMatchesAWSExamples(t *testing.T) {
	s := signer{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1"}
	when := time.Date(2013, 5, 24, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name, url, signature string
	}{
		{"lifecycle", "https://examplebucket.s3.amazonaws.com/?lifecycle",
			"fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
		{"list with query", "https://examplebucket.s3.amazonaws.com/?max-keys=2&prefix=J",
			"34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			s.sign(req, when)
			want := "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, " +
				"SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=" + tt.signature
			if got := req.Header.Get("Authorization"); got != want {
				t.Errorf("Authorization:\n got %s\nwant %s", got, want)
			}
			if got := req.Header.Get("X-Amz-Date"); got != "20130524T000000Z" {
				t.Errorf("X-Amz-Date = %q", got)
			}
		})
	}
}

func TestEnsureAgainstRealServer(t *testing.T) {
	srv := testenv.S3Server(t)
	s := signer{srv.AccessKey, srv.SecretKey, "us-east-1"}
	bucket := fmt.Sprintf("s3bucket-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	url := "http://" + srv.Endpoint + "/" + bucket
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	if err := ensure(ctx, s, url); err != nil {
		t.Fatalf("first ensure (creates the bucket): %v", err)
	}
	if err := ensure(ctx, s, url); err != nil {
		t.Fatalf("second ensure (bucket exists): %v", err)
	}
	t.Cleanup(func() {
		if code, err := do(context.Background(), s, http.MethodDelete, url); err != nil || code != http.StatusNoContent {
			t.Errorf("DELETE bucket: status %d, %v", code, err)
		}
	})

	bad := signer{srv.AccessKey, srv.SecretKey + "x", "us-east-1"}
	err := try(ctx, bad, url)
	if err == nil || !strings.Contains(err.Error(), "status 403") {
		t.Fatalf("wrong secret: got %v, want a 403", err)
	}
}
