package cluster

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/imgmgr/imgmgr/internal/testenv"
)

// Regression (issue 9): five packages each opened or took their own Redis
// client. cluster is the only package that imports go-redis; test support
// in internal/testenv may too.
func TestOnlyClusterImportsRedis(t *testing.T) {
	root := testenv.RepoRoot()
	allowed := map[string]bool{"cluster": true, "internal/testenv": true}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if strings.HasPrefix(p, "github.com/redis/go-redis") && !allowed[filepath.ToSlash(rel)] {
				t.Errorf("%s imports %s; only package cluster talks to Redis", filepath.ToSlash(rel)+"/"+d.Name(), p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
