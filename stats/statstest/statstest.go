// Package statstest is the conformance suite of stats.Views.
package statstest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/imgmgr/imgmgr/stats"
)

// Clock is a settable time for the suite.
type Clock struct{ T time.Time }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return c.T }

// Run checks a Views made by open with the given clock.
func Run(t *testing.T, open func(t *testing.T, now func() time.Time) stats.Views) {
	ctx := context.Background()
	clock := &Clock{T: time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)}
	v := open(t, clock.Now)
	record := func(id string, n int) {
		for range n {
			if err := v.Record(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
	top := func(days, n int) []stats.ImageViews {
		got, err := v.Top(ctx, days, n)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	record("a", 3)
	record("b", 5)
	record("c", 3)
	if got, want := top(1, 2), []stats.ImageViews{{ID: "b", Views: 5}, {ID: "a", Views: 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Top(1,2) = %v, want %v", got, want)
	}
	clock.T = clock.T.Add(24 * time.Hour)
	record("a", 4)
	if got, want := top(1, 5), []stats.ImageViews{{ID: "a", Views: 4}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("today only: %v, want %v", got, want)
	}
	if got, want := top(2, 5), []stats.ImageViews{{ID: "a", Views: 7}, {ID: "b", Views: 5}, {ID: "c", Views: 3}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("two days: %v, want %v", got, want)
	}
	clock.T = clock.T.Add(10 * 24 * time.Hour)
	record("z", 1)
	if got, want := top(7, 5), []stats.ImageViews{{ID: "z", Views: 1}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after a week, old days are gone: %v", got)
	}
	if got := top(99, 0); len(got) != 0 {
		t.Fatalf("n=0: %v", got)
	}
}
