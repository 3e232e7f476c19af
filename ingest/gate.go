package ingest

import (
	"sync"
	"time"

	"github.com/imgmgr/imgmgr"
)

// gate bounds concurrent ingests per node and per user. It never queues:
// when full, the caller is told to come back (503 + Retry-After) at once.
type gate struct {
	mu      sync.Mutex
	total   int
	perUser map[string]int
	max     int // 0 = unbounded
	maxUser int // 0 = unbounded
}

var errBusy = &imgmgr.Error{Kind: imgmgr.KindUnavailable, Code: "busy",
	Message: "too many uploads are being processed; try again shortly", RetryAfter: 2 * time.Second}

// enter takes a slot for user or fails with a KindUnavailable error.
func (g *gate) enter(user string) (leave func(), err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if (g.max > 0 && g.total >= g.max) || (g.maxUser > 0 && g.perUser[user] >= g.maxUser) {
		return nil, errBusy
	}
	if g.perUser == nil {
		g.perUser = map[string]int{}
	}
	g.total++
	g.perUser[user]++
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		g.total--
		if g.perUser[user]--; g.perUser[user] == 0 {
			delete(g.perUser, user)
		}
	}, nil
}
