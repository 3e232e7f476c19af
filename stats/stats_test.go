package stats_test

import (
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/stats"
	"github.com/imgmgr/imgmgr/stats/statstest"
)

func TestMemory(t *testing.T) {
	statstest.Run(t, func(t *testing.T, now func() time.Time) stats.Views { return stats.NewMemory(0, now) })
}
