package images

import (
	"context"
	"strings"

	"github.com/imgmgr/imgmgr"
)

// CreateAlbum makes an album for the principal.
func (s *Service) CreateAlbum(ctx context.Context, p imgmgr.Principal, name string) (*imgmgr.Album, error) {
	name, err := albumName(name)
	if err != nil {
		return nil, err
	}
	a := &imgmgr.Album{OwnerID: p.UserID, Name: name, CreatedAt: now()}
	if err := s.Meta.CreateAlbum(ctx, a); err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindConflict {
			return nil, imgmgr.Errorf(imgmgr.KindConflict, "album_exists", "an album named %q exists", name)
		}
		return nil, err
	}
	return a, nil
}

// ListAlbums lists the principal's albums (everyone's for an admin).
func (s *Service) ListAlbums(ctx context.Context, p imgmgr.Principal) ([]imgmgr.Album, error) {
	owner := p.UserID
	if p.IsAdmin() {
		owner = ""
	}
	return s.Meta.ListAlbums(ctx, owner)
}

func (s *Service) ownAlbum(ctx context.Context, p imgmgr.Principal, id string) (*imgmgr.Album, error) {
	a, err := s.Meta.FindAlbum(ctx, id)
	if err != nil {
		return nil, err
	}
	if a.OwnerID != p.UserID && !p.IsAdmin() {
		return nil, imgmgr.ErrNotFound("album")
	}
	return a, nil
}

// RenameAlbum renames one of the principal's albums.
func (s *Service) RenameAlbum(ctx context.Context, p imgmgr.Principal, id, name string) (*imgmgr.Album, error) {
	if _, err := s.ownAlbum(ctx, p, id); err != nil {
		return nil, err
	}
	name, err := albumName(name)
	if err != nil {
		return nil, err
	}
	return s.Meta.RenameAlbum(ctx, id, name)
}

// DeleteAlbum deletes an album; its images stay, without an album.
func (s *Service) DeleteAlbum(ctx context.Context, p imgmgr.Principal, id string) error {
	if _, err := s.ownAlbum(ctx, p, id); err != nil {
		return err
	}
	return s.Meta.DeleteAlbum(ctx, id)
}

// ListTags lists the principal's tags with counts (everyone's for an admin).
func (s *Service) ListTags(ctx context.Context, p imgmgr.Principal) ([]imgmgr.TagCount, error) {
	owner := p.UserID
	if p.IsAdmin() {
		owner = ""
	}
	return s.Meta.ListTags(ctx, owner)
}

func albumName(name string) (string, error) {
	name = strings.TrimSpace(imgmgr.CleanText(name))
	if name == "" || len(name) > 200 {
		return "", imgmgr.Errorf(imgmgr.KindInvalid, "invalid_name", "album name must be 1 to 200 characters")
	}
	return name, nil
}
