package privacy

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/internal/testenv"
)

// TestStripHostileCorpus runs every file of testdata/hostile through
// StripLocation and Read under each format it could be mistaken for: each
// call ends with success or a client error, never a panic or an internal
// error; a successful strip leaves no GPS.
func TestStripHostileCorpus(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "testdata", "hostile")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || strings.HasSuffix(e.Name(), ".md") || strings.HasSuffix(e.Name(), ".tsv") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, format := range []string{"jpeg", "png", "gif", "webp", "avif"} {
			var out bytes.Buffer
			err := StripLocation(format, bytes.NewReader(b), &out)
			if k := imgmgr.KindOf(err); err != nil && k != imgmgr.KindUnprocessable {
				t.Errorf("%s as %s: %v (kind %v)", e.Name(), format, err, k)
			}
			if err == nil {
				if md, rerr := Read(format, bytes.NewReader(out.Bytes())); rerr != nil || md.Location != nil {
					t.Errorf("%s as %s: stripped copy still has a location (%v)", e.Name(), format, rerr)
				}
			}
			if _, err := Read(format, bytes.NewReader(b)); err != nil && imgmgr.KindOf(err) != imgmgr.KindUnprocessable {
				t.Errorf("Read %s as %s: %v", e.Name(), format, err)
			}
		}
	}
}
