package meta

import (
	"context"
	"time"
)

// CDN task states: queued (waiting, or waiting to retry) → submitted (a
// runner holds it and is calling the vendor; its lease lapses if the
// runner dies, and the task is claimed again) → in_progress (the vendor
// accepted it; polled until done) → done | failed.
const (
	CDNQueued     = "queued"
	CDNSubmitted  = "submitted"
	CDNInProgress = "in_progress"
	CDNDone       = "done"
	CDNFailed     = "failed"
)

// CDNTask is one durable purge or prefetch. Items is the JSON the cdn
// package gives it (URLs with Accept, or tags); the store keeps it opaque.
type CDNTask struct {
	ID            string
	Provider      string // cloudflare | akamai | aliyun
	Kind          string // purge_url | purge_tag | prefetch
	State         string
	Items         []byte
	Reason        string // what triggered it, e.g. image.delete, admin
	Attempts      int    // vendor submissions so far
	NextAttemptAt time.Time
	LeaseUntil    time.Time // while submitted, or while a runner polls it
	Claim         string    // token of the runner holding the lease
	VendorIDs     []string
	Error         string
	CreatedAt     time.Time // the trigger
	SubmittedAt   time.Time // when the vendor accepted it
	DoneAt        time.Time
	UpdatedAt     time.Time
}

// CDNTaskFilter selects tasks to list; zero fields select all.
type CDNTaskFilter struct {
	State string
	Limit int // default 100, at most 1000
}

// CDNTaskCount counts tasks of one provider, kind and state.
type CDNTaskCount struct {
	Provider, Kind, State string
	N                     int
}

// CDNTasks stores CDN tasks.
type CDNTasks interface {
	// CreateCDNTasks inserts the tasks in one transaction as queued, due
	// now unless NextAttemptAt is set; it fills ID and times.
	CreateCDNTasks(ctx context.Context, ts []*CDNTask) error
	// ClaimCDNTasks leases up to limit due tasks of provider, oldest first:
	// queued or in_progress ones whose NextAttemptAt has passed, and
	// submitted or in_progress ones whose lease lapsed (their runner died).
	// Each claimed task gets a fresh Claim token and LeaseUntil now+lease;
	// a queued one, or a lapsed submitted one, becomes submitted with
	// Attempts+1. Concurrent callers, in one process or several, never
	// claim the same task.
	ClaimCDNTasks(ctx context.Context, provider string, limit int, lease time.Duration) ([]CDNTask, error)
	// SaveCDNTasks writes the runner's outcome of claimed tasks (State,
	// NextAttemptAt, VendorIDs, Error, SubmittedAt, DoneAt) and releases
	// their leases, in one transaction. A task whose Claim no longer holds
	// (its lease lapsed and another runner took it) is left alone; the ids
	// of those are returned.
	SaveCDNTasks(ctx context.Context, ts []CDNTask) (lost []string, err error)
	// FindCDNTask returns a task or a NotFound.
	FindCDNTask(ctx context.Context, id string) (*CDNTask, error)
	// ListCDNTasks lists tasks, newest first.
	ListCDNTasks(ctx context.Context, f CDNTaskFilter) ([]CDNTask, error)
	// CountCDNTasks counts tasks by provider, kind and state.
	CountCDNTasks(ctx context.Context) ([]CDNTaskCount, error)
}

// VariantURL is a variant URL path that was served for an image, so that a
// purge can list every URL a CDN may have cached.
type VariantURL struct {
	ImageID    string
	Path       string // /img/{signature}/{options}/{id}[.ext], without the query
	Negotiated bool   // no extension: the format followed Accept
	CreatedAt  time.Time
}

// VariantURLs indexes the variant URLs served per image.
type VariantURLs interface {
	PutVariantURL(ctx context.Context, v VariantURL) error // a known path is kept as is
	ListVariantURLs(ctx context.Context, imageID string) ([]VariantURL, error)
	DeleteVariantURLs(ctx context.Context, imageID string) error
}
