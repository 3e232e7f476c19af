// Package meta is the contract of the metadata stores: users, credentials,
// images, albums, tags, the variant cache index, durable jobs, CDN tasks
// and the variant URLs served per image. Implementations: sqlite (embedded default) and postgres. Every
// implementation passes the conformance suite in metatest.
//
// Missing rows give errors of kind imgmgr.KindNotFound; unique violations
// give imgmgr.KindConflict. All methods are safe for concurrent use.
package meta

import (
	"context"
	"time"

	"github.com/imgmgr/imgmgr"
)

// Store is the whole metadata contract.
type Store interface {
	Users
	Credentials
	Images
	Albums
	Variants
	Jobs
	CDNTasks
	VariantURLs
	// Ping checks the database answers (for readiness).
	Ping(ctx context.Context) error
	Close() error
}

// Users stores accounts.
type Users interface {
	CreateUser(ctx context.Context, u *imgmgr.User) error // fills ID and times when empty; Conflict on a taken username
	FindUserByID(ctx context.Context, id string) (*imgmgr.User, error)
	FindUserByUsername(ctx context.Context, username string) (*imgmgr.User, error)
	ListUsers(ctx context.Context) ([]imgmgr.User, error) // by username
	UpdateUser(ctx context.Context, id string, upd imgmgr.UserUpdate) (*imgmgr.User, error)
	DeleteUser(ctx context.Context, id string) error // NotFound when missing; also deletes its keys and tokens
	// (and its albums). A user who still owns images is not deleted: that is a
	// Conflict with code "user_has_images" (delete the images first, so that
	// their blobs, variants and CDN copies are cleaned up too).
	CountUsers(ctx context.Context) (int, error)
}

// Credentials stores API keys and refresh tokens (hashes only).
type Credentials interface {
	CreateAPIKey(ctx context.Context, k *imgmgr.APIKey) error
	FindAPIKeyByHash(ctx context.Context, hash string) (*imgmgr.APIKey, error)
	ListAPIKeys(ctx context.Context, userID string) ([]imgmgr.APIKey, error)
	DeleteAPIKey(ctx context.Context, userID, id string) error // NotFound unless it exists and is userID's
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	CreateRefreshToken(ctx context.Context, t *imgmgr.RefreshToken) error
	FindRefreshToken(ctx context.Context, hash string) (*imgmgr.RefreshToken, error)
	// UseRefreshToken atomically marks the token used and stores next (same
	// family). If the token was already used or revoked it changes nothing and
	// returns a KindConflict error: the caller then revokes the family.
	UseRefreshToken(ctx context.Context, hash string, next *imgmgr.RefreshToken) error
	RevokeRefreshFamily(ctx context.Context, familyID string) error
	RevokeUserRefreshTokens(ctx context.Context, userID string) error
}

// Images stores image rows with their tags.
type Images interface {
	// CreateImage inserts im and its tags in one transaction; fills ID (a
	// UUIDv7) and times when empty.
	CreateImage(ctx context.Context, im *imgmgr.Image) error
	FindImageByID(ctx context.Context, id string) (*imgmgr.Image, error)
	// ListImages returns one page; pages stay stable while images are added.
	ListImages(ctx context.Context, f imgmgr.ImageFilter) (imgmgr.ImagePage, error)
	UpdateImage(ctx context.Context, id string, upd imgmgr.ImageUpdate) (*imgmgr.Image, error)
	// DeleteImage deletes the row and its tags and returns the deleted image
	// and how many other rows still use its SHA-256.
	DeleteImage(ctx context.Context, id string) (deleted *imgmgr.Image, remaining int, err error)
	CountImagesBySHA(ctx context.Context, sha256 string) (int, error)
	ListTags(ctx context.Context, ownerID string) ([]imgmgr.TagCount, error) // ownerID "" = all
	// ImageStats sums images and bytes (ownerID "" = all).
	ImageStats(ctx context.Context, ownerID string) (count int, bytes int64, err error)
	// UploadsByDay counts images created since the given time per UTC day,
	// oldest first; days without uploads are absent (ownerID "" = all).
	UploadsByDay(ctx context.Context, ownerID string, since time.Time) ([]imgmgr.DayCount, error)
}

// Albums stores albums.
type Albums interface {
	CreateAlbum(ctx context.Context, a *imgmgr.Album) error // Conflict on (owner, name)
	FindAlbum(ctx context.Context, id string) (*imgmgr.Album, error)
	FindAlbumByName(ctx context.Context, ownerID, name string) (*imgmgr.Album, error)
	ListAlbums(ctx context.Context, ownerID string) ([]imgmgr.Album, error) // with counts; ownerID "" = all
	RenameAlbum(ctx context.Context, id, name string) (*imgmgr.Album, error)
	DeleteAlbum(ctx context.Context, id string) error // images stay, leave the album
}

// VariantRecord indexes one cached rendered variant.
type VariantRecord struct {
	Key        string // cache key (hex); the blob is blob.VariantKey(Key)
	SHA256     string // the original's SHA-256
	Size       int64
	Format     string
	CreatedAt  time.Time
	AccessedAt time.Time
}

// Variants indexes the variant cache for eviction and deletion.
type Variants interface {
	PutVariant(ctx context.Context, v VariantRecord) error // insert or replace
	TouchVariant(ctx context.Context, key string, at time.Time) error
	ListVariantsBySHA(ctx context.Context, sha256 string) ([]VariantRecord, error)
	DeleteVariant(ctx context.Context, key string) error
	VariantCacheSize(ctx context.Context) (int64, error)
	// LeastRecentVariants lists up to limit records, least recently accessed first.
	LeastRecentVariants(ctx context.Context, limit int) ([]VariantRecord, error)
}

// Job is a durable background task, retried with backoff until it succeeds
// or runs out of attempts.
type Job struct {
	ID          string
	Kind        string // e.g. "variant.eager", "cdn.purge", "blob.gc"
	Payload     []byte // JSON
	Attempts    int
	MaxAttempts int
	RunAt       time.Time // not before
	LeaseUntil  time.Time // while claimed
	LastError   string
	State       string // queued, running, done, failed
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Jobs is the durable job queue.
type Jobs interface {
	EnqueueJob(ctx context.Context, j *Job) error // fills ID, times; State queued
	// ClaimJobs leases up to limit queued jobs of the kinds whose RunAt has
	// passed (or running jobs whose lease expired), for lease; Attempts++.
	// Two concurrent callers never claim the same job.
	ClaimJobs(ctx context.Context, kinds []string, limit int, lease time.Duration) ([]Job, error)
	CompleteJob(ctx context.Context, id string) error
	// FailJob records the error; the job runs again at retryAt unless it has
	// used MaxAttempts, then its State becomes failed.
	FailJob(ctx context.Context, id string, errText string, retryAt time.Time) error
	FindJob(ctx context.Context, id string) (*Job, error)
}
