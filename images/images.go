// Package images is the image library service: reading, listing, editing
// and deleting images and albums on behalf of a principal. A user sees and
// changes only their own images; an admin sees all. Someone else's image is
// reported as not found, so its existence is not revealed.
package images

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/ingest"
	"github.com/imgmgr/imgmgr/meta"
	"github.com/imgmgr/imgmgr/stats"
)

// Deps of the service. OnOriginalGone may be nil; it runs when the last
// image using an original is deleted (e.g. to drop its variants). CDN may
// be nil (no CDN configured).
type Deps struct {
	Meta           meta.Store
	Blobs          blob.Store
	Locks          blob.KeyLocker // shared with ingest; default in-process
	OnOriginalGone func(ctx context.Context, sha256 string) error
	CDN            CDNPurger
	Views          stats.Views // may be nil: no ranking of viewed images
	Logger         *slog.Logger
}

// Service implements the library operations. Safe for concurrent use.
type Service struct{ Deps }

// New returns a Service.
func New(d Deps) *Service {
	if d.Locks == nil {
		d.Locks = &blob.Locks{}
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	return &Service{d}
}

// CDNPurger queues the durable purge of an image's cached variants at the
// CDN (cdn.Service). It returns once the task is stored.
type CDNPurger interface {
	PurgeImage(ctx context.Context, im *imgmgr.Image, reason string, forget bool) (*meta.CDNTask, error)
}

// purge queues the CDN purge of im before the change that needs it is
// made: a failure to store the task stops the change, so that no deleted
// or hidden image stays at the edge unnoticed.
func (s *Service) purge(ctx context.Context, im *imgmgr.Image, reason string) error {
	if s.CDN == nil {
		return nil
	}
	_, err := s.CDN.PurgeImage(ctx, im, reason, false)
	return imgmgr.Wrap("images.purge", err)
}

// Get returns an image the principal owns (or any, for an admin).
func (s *Service) Get(ctx context.Context, p imgmgr.Principal, id string) (*imgmgr.Image, error) {
	im, err := s.Meta.FindImageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.Owns(im) {
		return nil, imgmgr.ErrNotFound("image")
	}
	return im, nil
}

// List lists the principal's images; an admin may list anyone's (OwnerID
// "" = everyone's).
func (s *Service) List(ctx context.Context, p imgmgr.Principal, f imgmgr.ImageFilter) (imgmgr.ImagePage, error) {
	if !p.IsAdmin() {
		f.OwnerID = p.UserID
	}
	if f.Visibility != "" && !f.Visibility.Valid() {
		return imgmgr.ImagePage{}, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_visibility", "visibility must be private or public")
	}
	return s.Meta.ListImages(ctx, f)
}

// Update edits an image's descriptive fields.
func (s *Service) Update(ctx context.Context, p imgmgr.Principal, id string, upd imgmgr.ImageUpdate) (*imgmgr.Image, error) {
	im, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	if err := s.checkUpdate(ctx, im, &upd); err != nil {
		return nil, err
	}
	if upd.Visibility != nil && *upd.Visibility == imgmgr.Private && im.Visibility != imgmgr.Private {
		if err := s.purge(ctx, im, "image.private"); err != nil {
			return nil, err
		}
	}
	return s.Meta.UpdateImage(ctx, id, upd)
}

func (s *Service) checkUpdate(ctx context.Context, im *imgmgr.Image, upd *imgmgr.ImageUpdate) error {
	if upd.Title != nil {
		t := strings.TrimSpace(imgmgr.CleanText(*upd.Title))
		if len(t) > 500 {
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_title", "title is longer than 500 bytes")
		}
		upd.Title = &t
	}
	if upd.Visibility != nil && !upd.Visibility.Valid() {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_visibility", "visibility must be private or public")
	}
	if upd.AlbumID != nil && *upd.AlbumID != "" {
		a, err := s.Meta.FindAlbum(ctx, *upd.AlbumID)
		if err != nil || a.OwnerID != im.OwnerID {
			return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_album", "album not found")
		}
	}
	var err error
	if upd.Tags != nil {
		var t []string
		if t, err = ingest.NormalizeTags(*upd.Tags); err != nil {
			return err
		}
		upd.Tags = &t
	}
	if upd.AddTags, err = ingest.NormalizeTags(upd.AddTags); err != nil {
		return err
	}
	upd.RemoveTags, err = ingest.NormalizeTags(upd.RemoveTags)
	return err
}

// Delete deletes an image; its original goes when no image uses it.
func (s *Service) Delete(ctx context.Context, p imgmgr.Principal, id string) error {
	im, err := s.Get(ctx, p, id)
	if err != nil {
		return err
	}
	key := blob.OriginalKey(im.SHA256)
	unlock, err := s.Locks.Lock(ctx, key)
	if err != nil {
		return imgmgr.Wrap("images.Delete", err)
	}
	defer unlock()
	if err := s.purge(ctx, im, "image.delete"); err != nil {
		return err
	}
	_, remaining, err := s.Meta.DeleteImage(ctx, id)
	if err != nil {
		return err
	}
	if err := s.Meta.DeleteVariantURLs(context.WithoutCancel(ctx), id); err != nil {
		s.Logger.ErrorContext(ctx, "forgetting variant URLs", "image", id, "err", err)
	}
	if remaining > 0 {
		return nil
	}
	// The row is gone: finish the clean-up even if the client leaves.
	ctx = context.WithoutCancel(ctx)
	if s.OnOriginalGone != nil {
		if err := s.OnOriginalGone(ctx, im.SHA256); err != nil {
			s.Logger.ErrorContext(ctx, "dropping variants", "sha256", im.SHA256, "err", err)
		}
	}
	for _, k := range []string{key, PublicKey(im.SHA256)} {
		if err := s.Blobs.Delete(ctx, k); err != nil {
			s.Logger.ErrorContext(ctx, "deleting unused original", "key", k, "err", err)
		}
	}
	return nil
}

// Stats is the principal's view of the library (everyone's for an admin).
type Stats struct {
	Images       int               `json:"images"`
	Bytes        int64             `json:"bytes"`
	Users        int               `json:"users,omitempty"`
	UploadsByDay []imgmgr.DayCount `json:"uploads_by_day"` // last 30 days
	TopImages    []TopImage        `json:"top_images"`     // most viewed over 7 days
}

// TopImage is a much-viewed image.
type TopImage struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	Format string `json:"format"`
	Views  int64  `json:"views"`
}

// Stats returns counts, uploads per day and the most viewed images the
// principal may see.
func (s *Service) Stats(ctx context.Context, p imgmgr.Principal) (*Stats, error) {
	owner := p.UserID
	if p.IsAdmin() {
		owner = ""
	}
	st := &Stats{TopImages: []TopImage{}}
	var err error
	if st.Images, st.Bytes, err = s.Meta.ImageStats(ctx, owner); err != nil {
		return nil, err
	}
	if p.IsAdmin() {
		if st.Users, err = s.Meta.CountUsers(ctx); err != nil {
			return nil, err
		}
	}
	if st.UploadsByDay, err = s.Meta.UploadsByDay(ctx, owner, now().AddDate(0, 0, -29).Truncate(24*time.Hour)); err != nil {
		return nil, err
	}
	if s.Views == nil {
		return st, nil
	}
	top, err := s.Views.Top(ctx, stats.KeepDays, 50)
	if err != nil {
		s.Logger.WarnContext(ctx, "reading view counts", "err", err) // stats without the ranking
		return st, nil
	}
	for _, v := range top { // the ranking spans everyone's images: keep the first ten p may see
		if len(st.TopImages) == 10 {
			break
		}
		if im, err := s.Get(ctx, p, v.ID); err == nil {
			st.TopImages = append(st.TopImages, TopImage{ID: im.ID, Title: im.Title, Format: im.Format, Views: v.Views})
		}
	}
	return st, nil
}

func now() time.Time { return time.Now().UTC() }
