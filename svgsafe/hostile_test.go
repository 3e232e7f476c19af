package svgsafe

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestHostileCorpusSVG: the corpus's script-laden SVG comes out as plain
// shapes; the XXE one is refused.
func TestHostileCorpusSVG(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "testdata", "hostile")
	script, err := os.ReadFile(filepath.Join(dir, "svg-script.svg"))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	rep, err := Sanitize(bytes.NewReader(script), &out, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if reason := unsafeReason(out.String()); reason != "" || rep.Clean() {
		t.Fatalf("unsafe (%s) or nothing removed (%+v):\n%s", reason, rep, out.String())
	}
	for _, gone := range []string{"script", "onload", "javascript", "foreignObject", "attacker"} {
		if strings.Contains(out.String(), gone) {
			t.Errorf("%q survived:\n%s", gone, out.String())
		}
	}
	if !strings.Contains(out.String(), `<rect width="100" height="100" fill="teal">`) {
		t.Errorf("the drawing was lost:\n%s", out.String())
	}
	xxe, err := os.ReadFile(filepath.Join(dir, "svg-xxe.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Sanitize(bytes.NewReader(xxe), &out, Options{}); imgmgr.CodeOf(err) != "svg_doctype" {
		t.Fatalf("svg-xxe.svg: err = %v, want svg_doctype", err)
	}
}
