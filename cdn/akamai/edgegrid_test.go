package akamai

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

type vectors struct {
	BaseHost      string   `json:"base_host"`
	AccessToken   string   `json:"access_token"`
	ClientToken   string   `json:"client_token"`
	ClientSecret  string   `json:"client_secret"`
	MaxBody       int      `json:"max_body"`
	HeadersToSign []string `json:"headers_to_sign"`
	Nonce         string   `json:"nonce"`
	Timestamp     string   `json:"timestamp"`
	SignKey       string   `json:"sign_key"`
	Tests         []struct {
		Name, Method, Path, Data, Signature string
		DataRepeat                          string `json:"data_repeat"`
		DataCount                           int    `json:"data_count"`
		Headers                             map[string]string
	}
}

// TestEdgeGridVectors signs Akamai's published EdgeGrid test requests and
// compares with the published Authorization headers.
func TestEdgeGridVectors(t *testing.T) {
	b, err := os.ReadFile("testdata/edgegrid_vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	ts, err := time.Parse(TimestampFormat, v.Timestamp)
	if err != nil {
		t.Fatal(err)
	}
	if got := hmacB64([]byte(v.ClientSecret), v.Timestamp); got != v.SignKey {
		t.Fatalf("signing key %s, want %s", got, v.SignKey)
	}
	c := Credentials{ClientToken: v.ClientToken, ClientSecret: v.ClientSecret, AccessToken: v.AccessToken,
		MaxBody: v.MaxBody, HeadersToSign: v.HeadersToSign}
	for _, tc := range v.Tests {
		body := tc.Data
		if tc.DataRepeat != "" {
			body = strings.Repeat(tc.DataRepeat, tc.DataCount)
		}
		req, err := http.NewRequest(tc.Method, "https://"+v.BaseHost+tc.Path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, val := range tc.Headers {
			req.Header.Set(k, val)
		}
		want := "EG1-HMAC-SHA256 client_token=" + v.ClientToken + ";access_token=" + v.AccessToken +
			";timestamp=" + v.Timestamp + ";nonce=" + v.Nonce + ";signature=" + tc.Signature
		if got := c.Sign(req, []byte(body), ts, v.Nonce); got != want {
			t.Errorf("%s:\n got %s\nwant %s", tc.Name, got, want)
		}
	}
}
