package main

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 10, item 14): the README's first command answered 415
// because `curl -d` sends application/x-www-form-urlencoded. This runs the
// "First steps" block of README.md, as written, with real curl and jq
// against a real server (only the address and the password are put in),
// then checks what the block claims: a token, an image id, and the
// original back byte for byte.
func TestReadmeFirstSteps(t *testing.T) {
	testenv.Tool(t, "curl")
	testenv.Tool(t, "jq")
	bash := testenv.Tool(t, "bash")
	block := readmeBlock(t, "## First steps")
	ts := startServer(t)
	u, _ := url.Parse(ts.srv.URL)
	script := strings.ReplaceAll(block, "localhost:8080", u.Host)
	script = strings.ReplaceAll(script, `"password":"..."`, `"password":"`+adminPassword+`"`)
	if script == block {
		t.Fatal("the block names neither localhost:8080 nor the password placeholder: update the test with the README")
	}
	dir := t.TempDir()
	photo := testenv.ReadImage(t, "photo/concert.jpg")
	if err := os.WriteFile(filepath.Join(dir, "photo.jpg"), photo, 0o600); err != nil {
		t.Fatal(err)
	}
	checks := `
test -n "$TOKEN" && test "$TOKEN" != null || { echo "no token" >&2; exit 1; }
test -n "$ID" && test "$ID" != null || { echo "no image id" >&2; exit 1; }
cmp photo.jpg back.jpg
`
	cmd := exec.Command(bash, "-euo", "pipefail", "-c", script+checks)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("README first steps failed: %v\n--- script\n%s\n--- output\n%s", err, script, out.String())
	}
}

// Login takes a JSON object sent with curl's default form type, but real
// form data is still refused 415.
func TestLoginTakesFormTypedJSON(t *testing.T) {
	ts := startServer(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded"}
	resp := ts.do("POST", "/api/v1/auth/login", "", strings.NewReader(` {"username":"admin","password":"`+adminPassword+`"}`), form)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("JSON object sent as a form: %d, want 200", resp.StatusCode)
	}
	resp = ts.do("POST", "/api/v1/auth/login", "", strings.NewReader("username=admin&password="+adminPassword), form)
	if resp.StatusCode != 415 || errorCode(t, resp) != "unsupported_media_type" {
		t.Fatalf("real form data: %d, want 415", resp.StatusCode)
	}
}

// readmeBlock returns the first ```sh block after heading in README.md.
func readmeBlock(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testenv.RepoRoot(), "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "\n"+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no %q section", heading)
	}
	if next := strings.Index(rest, "\n## "); next >= 0 {
		rest = rest[:next]
	}
	_, rest, ok = strings.Cut(rest, "```sh\n")
	block, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("the %q section has no ```sh block", heading)
	}
	return block
}
