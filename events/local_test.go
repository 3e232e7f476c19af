package events_test

import (
	"testing"

	"github.com/imgmgr/imgmgr/events"
	"github.com/imgmgr/imgmgr/events/eventstest"
)

func TestLocalConformance(t *testing.T) {
	eventstest.Run(t, func(t *testing.T) (events.Bus, events.Bus) {
		b, err := events.NewLocal(events.LocalConfig{Buffer: 64})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b, b
	})
}
