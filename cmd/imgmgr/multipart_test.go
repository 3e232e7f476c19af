package main

import (
	"io"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression: an oversized form field after a stored file made Receive
// return no results, so the client got a bare 413 while the file before
// the field had been stored (a row and a blob it was never told about).
// The answer must list the stored file and the refused field, in order.
func TestFieldErrorAfterStoredFileKeepsResults(t *testing.T) {
	ts := startServer(t)
	var b strings.Builder
	b.WriteString("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\n\r\n")
	b.Write(testenv.ReadImage(t, "photo/concert.jpg"))
	b.WriteString("\r\n--x\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\n")
	b.WriteString(strings.Repeat("t", 70<<10))
	b.WriteString("\r\n--x--\r\n")
	resp := ts.do("POST", "/api/v1/images", ts.token, strings.NewReader(b.String()),
		map[string]string{"Content-Type": "multipart/form-data; boundary=x"})
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var out uploadResp
	if err := jsonUnmarshal(body, &out); err != nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if resp.StatusCode != 201 || len(out.Results) != 2 || out.Results[0].Image == nil ||
		out.Results[1].Status != "error" || out.Results[1].Error == nil || out.Results[1].Error.Code != "field_too_large" {
		t.Fatalf("%d %s, want 201 with the stored file and the refused field", resp.StatusCode, body)
	}
	if st := ts.state(); st.rows != 1 {
		t.Fatalf("state %+v", st)
	}
}

// A refused field before any file answers with its own status.
func TestFieldErrorBeforeAnyFile(t *testing.T) {
	ts := startServer(t)
	body, ct := multipartBody(t, map[string]string{"title": strings.Repeat("t", 70<<10)}, filePart{"a.jpg", testenv.ReadImage(t, "photo/concert.jpg")})
	resp := ts.do("POST", "/api/v1/images", ts.token, body, map[string]string{"Content-Type": ct})
	if resp.StatusCode != 413 || errorCode(t, resp) != "field_too_large" {
		t.Fatalf("status %d, want 413 field_too_large", resp.StatusCode)
	}
	if st := ts.state(); st != (state{}) {
		t.Fatalf("left behind: %+v", st)
	}
}
