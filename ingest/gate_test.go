package ingest

import (
	"testing"

	"github.com/imgmgr/imgmgr"
)

func TestGate(t *testing.T) {
	g := &gate{max: 3, maxUser: 2}
	a1, err := g.enter("a")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter("a"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter("a"); imgmgr.KindOf(err) != imgmgr.KindUnavailable {
		t.Fatalf("third for one user: %v, want Unavailable", err)
	}
	if _, err := g.enter("b"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.enter("c"); imgmgr.KindOf(err) != imgmgr.KindUnavailable {
		t.Fatalf("over node cap: %v", err)
	}
	a1()
	if _, err := g.enter("c"); err != nil {
		t.Fatalf("after a slot freed: %v", err)
	}
	if len(g.perUser) != 3 || g.total != 3 {
		t.Fatalf("bookkeeping: %+v", g)
	}
}
