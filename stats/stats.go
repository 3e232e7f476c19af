// Package stats counts image views for the "hot images" of the admin
// stats page: per UTC day, kept for a week. Implementations: Memory (one
// process) and cluster.Views, Redis sorted sets shared by replicas.
package stats

import (
	"context"
	"sort"
	"sync"
	"time"
)

// ImageViews is an image and how often it was served.
type ImageViews struct {
	ID    string `json:"id"`
	Views int64  `json:"views"`
}

// Views records and ranks views. Safe for concurrent use.
type Views interface {
	// Record counts one view of the image now.
	Record(ctx context.Context, imageID string) error
	// Top returns up to n images with the most views over the last days
	// (1..7) days, most viewed first, ties by id.
	Top(ctx context.Context, days, n int) ([]ImageViews, error)
}

// Day is the UTC day key of t.
func Day(t time.Time) string { return t.UTC().Format("20060102") }

// KeepDays is how many days of counts are kept.
const KeepDays = 7

// Memory keeps per-day counters in process, bounded per day.
type Memory struct {
	mu      sync.Mutex
	days    map[string]map[string]int64
	maxKeys int
	now     func() time.Time
}

// NewMemory returns in-process counters keeping at most maxKeys images a
// day (default 100 000); past that, new images are not counted that day.
func NewMemory(maxKeys int, now func() time.Time) *Memory {
	if maxKeys <= 0 {
		maxKeys = 100_000
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{days: map[string]map[string]int64{}, maxKeys: maxKeys, now: now}
}

// Record implements Views.
func (m *Memory) Record(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := Day(m.now())
	day := m.days[d]
	if day == nil {
		day = map[string]int64{}
		m.days[d] = day
		m.forget()
	}
	if _, ok := day[id]; ok || len(day) < m.maxKeys {
		day[id]++
	}
	return nil
}

// forget drops days older than KeepDays.
func (m *Memory) forget() {
	oldest := Day(m.now().AddDate(0, 0, -KeepDays+1))
	for d := range m.days {
		if d < oldest {
			delete(m.days, d)
		}
	}
}

// Top implements Views.
func (m *Memory) Top(_ context.Context, days, n int) ([]ImageViews, error) {
	m.mu.Lock()
	sum := map[string]int64{}
	for i := range clampDays(days) {
		for id, c := range m.days[Day(m.now().AddDate(0, 0, -i))] {
			sum[id] += c
		}
	}
	m.mu.Unlock()
	out := make([]ImageViews, 0, len(sum))
	for id, c := range sum {
		out = append(out, ImageViews{ID: id, Views: c})
	}
	Rank(out)
	return out[:min(n, len(out))], nil
}

// Rank sorts most viewed first, ties by id.
func Rank(v []ImageViews) {
	sort.Slice(v, func(i, j int) bool {
		if v[i].Views != v[j].Views {
			return v[i].Views > v[j].Views
		}
		return v[i].ID < v[j].ID
	})
}

func clampDays(d int) int { return max(1, min(d, KeepDays)) }
