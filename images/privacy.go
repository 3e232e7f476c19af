package images

import (
	"context"
	"io"

	"github.com/imgmgr/imgmgr"
	"github.com/imgmgr/imgmgr/blob"
	"github.com/imgmgr/imgmgr/privacy"
)

// PublicKey is the blob key of an original's copy without location tags,
// made once (losslessly) and served to everyone but the owner.
func PublicKey(sha256 string) string { return "pub/" + sha256 }

// Original is an original opened for one caller.
type Original struct {
	Image    *imgmgr.Image
	Body     blob.ReadSeekCloser
	Stripped bool // location tags were removed: the caller is not the owner
}

// OpenOriginal opens an image's original for p: the owner gets the
// untouched bytes; anyone else allowed to see it (an admin, or anyone for
// a public image when allowPublic) gets the copy without location tags.
func (s *Service) OpenOriginal(ctx context.Context, p imgmgr.Principal, id string, allowPublic bool) (*Original, error) {
	im, err := s.Meta.FindImageByID(ctx, id)
	if err != nil {
		return nil, err
	}
	owner := p.UserID != "" && p.UserID == im.OwnerID
	if !owner && !p.IsAdmin() && !(allowPublic && im.Visibility == imgmgr.Public) {
		return nil, imgmgr.ErrNotFound("image")
	}
	key := blob.OriginalKey(im.SHA256)
	if !owner {
		if key, err = s.publicCopy(ctx, im); err != nil {
			return nil, err
		}
	}
	rc, _, err := blob.OpenSeeker(ctx, s.Blobs, key)
	if err != nil {
		return nil, imgmgr.Wrap("images.OpenOriginal", err)
	}
	return &Original{Image: im, Body: rc, Stripped: !owner}, nil
}

// publicCopy returns the key of the original without location tags,
// making it on first use.
func (s *Service) publicCopy(ctx context.Context, im *imgmgr.Image) (string, error) {
	key := PublicKey(im.SHA256)
	if !privacy.Supported(im.Format) {
		return "", imgmgr.Errorf(imgmgr.KindUnprocessable, "original_not_shareable",
			"originals in %s format are served to their owner only (their location tags cannot be removed losslessly)", im.Format)
	}
	if _, err := s.Blobs.Stat(ctx, key); err == nil {
		return key, nil
	} else if !imgmgr.IsNotFound(err) {
		return "", err
	}
	unlock, err := s.Locks.Lock(ctx, blob.OriginalKey(im.SHA256))
	if err != nil {
		return "", imgmgr.Wrap("images.publicCopy", err)
	}
	defer unlock()
	src, err := s.Blobs.Get(ctx, blob.OriginalKey(im.SHA256), 0, -1)
	if err != nil {
		return "", imgmgr.Wrap("images.publicCopy", err)
	}
	defer src.Close()
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(privacy.StripLocation(im.Format, src, pw)) }()
	_, err = s.Blobs.Put(ctx, key, pr)
	pr.CloseWithError(err) // unblocks the stripper if Put gave up early
	if err != nil {
		if imgmgr.KindOf(err) == imgmgr.KindInternal {
			return "", imgmgr.Wrap("images.publicCopy", err)
		}
		return "", imgmgr.Errorf(imgmgr.KindUnprocessable, "original_not_shareable", "the original's location tags could not be removed")
	}
	return key, nil
}

// Details is an image with what its file says about the camera, and the
// location for its owner only.
type Details struct {
	*imgmgr.Image
	Camera   *privacy.Camera   `json:"camera,omitempty"`
	Location *privacy.Location `json:"location,omitempty"`
}

// metadataScan is how much of an original is read for its metadata.
const metadataScan = 1 << 20

// Details returns the image with camera fields; the location only when p
// owns the image.
func (s *Service) Details(ctx context.Context, p imgmgr.Principal, id string) (*Details, error) {
	im, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &Details{Image: im}
	rc, err := s.Blobs.Get(ctx, blob.OriginalKey(im.SHA256), 0, metadataScan)
	if err != nil {
		return d, nil // the metadata is a nicety: the row still answers
	}
	defer rc.Close()
	md, err := privacy.Read(im.Format, rc)
	if err != nil {
		return d, nil
	}
	if md.Camera != (privacy.Camera{}) {
		d.Camera = &md.Camera
	}
	if p.UserID == im.OwnerID {
		d.Location = md.Location
	}
	return d, nil
}
