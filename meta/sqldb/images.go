package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/imgmgr/imgmgr"
)

const imageCols = `id, owner_id, sha256, size, format, width, height, frames, has_alpha, orientation,
	title, filename, visibility, album_id, created_at, updated_at`

func scanImage(sc scanner) (*imgmgr.Image, error) {
	var im imgmgr.Image
	var album sql.NullString
	if err := sc.Scan(&im.ID, &im.OwnerID, &im.SHA256, &im.Size, &im.Format, &im.Width, &im.Height,
		&im.Frames, &im.HasAlpha, &im.Orientation, &im.Title, &im.Filename, &im.Visibility, &album,
		timeScan{&im.CreatedAt}, timeScan{&im.UpdatedAt}); err != nil {
		return nil, err
	}
	im.AlbumID = album.String
	im.Tags = []string{}
	return &im, nil
}

// normTags trims tags, drops empty ones and duplicates, and sorts them.
// Tags are otherwise stored as given (callers decide on case).
func normTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.TrimSpace(t)
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// CreateImage inserts im and its tags in one transaction, filling ID
// (UUIDv7), visibility (private) and times when empty. im.AlbumID, when
// set, must name an album of the image's owner.
func (db *DB) CreateImage(ctx context.Context, im *imgmgr.Image) error {
	const op = "meta.CreateImage"
	if im.OwnerID == "" || im.SHA256 == "" {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_image", "owner and sha256 are required"))
	}
	if im.Visibility == "" {
		im.Visibility = imgmgr.Private
	}
	if !im.Visibility.Valid() {
		return imgmgr.Wrap(op, badVisibility(im.Visibility))
	}
	if im.ID == "" {
		im.ID = newID()
	}
	if im.CreatedAt.IsZero() {
		im.CreatedAt = now()
	}
	im.CreatedAt = norm(im.CreatedAt)
	if im.UpdatedAt.IsZero() {
		im.UpdatedAt = im.CreatedAt
	}
	im.UpdatedAt = norm(im.UpdatedAt)
	im.Tags = normTags(im.Tags)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if err := db.checkAlbum(ctx, tx, im.AlbumID, im.OwnerID); err != nil {
			return err
		}
		_, err := db.exec(ctx, tx, `INSERT INTO images (`+imageCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			im.ID, im.OwnerID, im.SHA256, im.Size, im.Format, im.Width, im.Height, im.Frames, im.HasAlpha,
			im.Orientation, im.Title, im.Filename, string(im.Visibility), nullable(im.AlbumID),
			db.tv(im.CreatedAt), db.tv(im.UpdatedAt))
		if err != nil {
			return db.conflictOr(err, "image_exists", "image %s already exists", im.ID)
		}
		return db.addTags(ctx, tx, im.ID, im.Tags)
	})
	return db.fail(op, err)
}

func badVisibility(v imgmgr.Visibility) error {
	return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_visibility", "unknown visibility %q", v)
}

// checkAlbum checks that albumID ("" = none) is an album of ownerID.
func (db *DB) checkAlbum(ctx context.Context, q querier, albumID, ownerID string) error {
	if albumID == "" {
		return nil
	}
	var owner string
	err := db.queryRow(ctx, q, `SELECT owner_id FROM albums WHERE id = ?`, albumID).Scan(&owner)
	if err != nil {
		return notFoundIfNoRows(err, "album")
	}
	if owner != ownerID {
		return imgmgr.Errorf(imgmgr.KindInvalid, "album_owner_mismatch", "the album belongs to another user")
	}
	return nil
}

func (db *DB) addTags(ctx context.Context, q querier, imageID string, tags []string) error {
	for _, t := range tags {
		if _, err := db.exec(ctx, q, `INSERT INTO image_tags (image_id, tag) VALUES (?, ?) ON CONFLICT DO NOTHING`,
			imageID, t); err != nil {
			return err
		}
	}
	return nil
}

// FindImageByID returns the image with its tags or a NotFound.
func (db *DB) FindImageByID(ctx context.Context, id string) (*imgmgr.Image, error) {
	im, err := db.findImage(ctx, db.r, id)
	return im, db.fail("meta.FindImageByID", err)
}

func (db *DB) findImage(ctx context.Context, q querier, id string) (*imgmgr.Image, error) {
	im, err := scanImage(db.queryRow(ctx, q, `SELECT `+imageCols+` FROM images WHERE id = ?`, id))
	if err != nil {
		return nil, notFoundIfNoRows(err, "image")
	}
	if err := db.loadTags(ctx, q, []*imgmgr.Image{im}); err != nil {
		return nil, err
	}
	return im, nil
}

// loadTags fills the Tags of ims (sorted) with one query.
func (db *DB) loadTags(ctx context.Context, q querier, ims []*imgmgr.Image) error {
	if len(ims) == 0 {
		return nil
	}
	byID := make(map[string]*imgmgr.Image, len(ims))
	args := make([]any, len(ims))
	for i, im := range ims {
		byID[im.ID] = im
		args[i] = im.ID
	}
	rows, err := db.query(ctx, q, `SELECT image_id, tag FROM image_tags WHERE image_id IN (`+
		placeholders(len(ims))+`) ORDER BY image_id, tag`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return err
		}
		byID[id].Tags = append(byID[id].Tags, tag)
	}
	return rows.Err()
}

// UpdateImage applies upd in one transaction and returns the image as it
// now is. Tags replaces the set first, then AddTags and RemoveTags apply.
func (db *DB) UpdateImage(ctx context.Context, id string, upd imgmgr.ImageUpdate) (*imgmgr.Image, error) {
	const op = "meta.UpdateImage"
	if upd.Visibility != nil && !upd.Visibility.Valid() {
		return nil, imgmgr.Wrap(op, badVisibility(*upd.Visibility))
	}
	var im *imgmgr.Image
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := db.findImage(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := db.updateImageRow(ctx, tx, cur, upd); err != nil {
			return err
		}
		if err := db.updateTags(ctx, tx, id, upd); err != nil {
			return err
		}
		im, err = db.findImage(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, db.fail(op, err)
	}
	return im, nil
}

func (db *DB) updateImageRow(ctx context.Context, tx *sql.Tx, im *imgmgr.Image, upd imgmgr.ImageUpdate) error {
	if upd.Title != nil {
		im.Title = *upd.Title
	}
	if upd.Visibility != nil {
		im.Visibility = *upd.Visibility
	}
	if upd.AlbumID != nil {
		if err := db.checkAlbum(ctx, tx, *upd.AlbumID, im.OwnerID); err != nil {
			return err
		}
		im.AlbumID = *upd.AlbumID
	}
	_, err := db.exec(ctx, tx, `UPDATE images SET title = ?, visibility = ?, album_id = ?, updated_at = ? WHERE id = ?`,
		im.Title, string(im.Visibility), nullable(im.AlbumID), db.tv(now()), im.ID)
	return err
}

func (db *DB) updateTags(ctx context.Context, tx *sql.Tx, id string, upd imgmgr.ImageUpdate) error {
	if upd.Tags != nil {
		if _, err := db.exec(ctx, tx, `DELETE FROM image_tags WHERE image_id = ?`, id); err != nil {
			return err
		}
		if err := db.addTags(ctx, tx, id, normTags(*upd.Tags)); err != nil {
			return err
		}
	}
	if err := db.addTags(ctx, tx, id, normTags(upd.AddTags)); err != nil {
		return err
	}
	for _, t := range normTags(upd.RemoveTags) {
		if _, err := db.exec(ctx, tx, `DELETE FROM image_tags WHERE image_id = ? AND tag = ?`, id, t); err != nil {
			return err
		}
	}
	return nil
}

// DeleteImage deletes the image and its tags and returns it with the
// number of rows that still use its SHA-256 (0: the original's blob and
// variants may go).
func (db *DB) DeleteImage(ctx context.Context, id string) (*imgmgr.Image, int, error) {
	var (
		im        *imgmgr.Image
		remaining int
	)
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if im, err = db.findImage(ctx, tx, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM image_tags WHERE image_id = ?`, id); err != nil {
			return err
		}
		if _, err := db.exec(ctx, tx, `DELETE FROM images WHERE id = ?`, id); err != nil {
			return err
		}
		return db.queryRow(ctx, tx, `SELECT COUNT(*) FROM images WHERE sha256 = ?`, im.SHA256).Scan(&remaining)
	})
	if err != nil {
		return nil, 0, db.fail("meta.DeleteImage", err)
	}
	return im, remaining, nil
}

// CountImagesBySHA returns how many image rows use the SHA-256.
func (db *DB) CountImagesBySHA(ctx context.Context, sha256 string) (int, error) {
	var n int
	err := db.queryRow(ctx, db.r, `SELECT COUNT(*) FROM images WHERE sha256 = ?`, sha256).Scan(&n)
	return n, db.fail("meta.CountImagesBySHA", err)
}

// ListTags returns the tags of the owner's images ("" = everyone's) with
// how many images carry each, by tag.
func (db *DB) ListTags(ctx context.Context, ownerID string) ([]imgmgr.TagCount, error) {
	const op = "meta.ListTags"
	q := `SELECT t.tag, COUNT(*) FROM image_tags t`
	var args []any
	if ownerID != "" {
		q += ` JOIN images i ON i.id = t.image_id WHERE i.owner_id = ?`
		args = append(args, ownerID)
	}
	rows, err := db.query(ctx, db.r, q+` GROUP BY t.tag ORDER BY t.tag`, args...)
	if err != nil {
		return nil, db.fail(op, err)
	}
	defer rows.Close()
	tags := []imgmgr.TagCount{}
	for rows.Next() {
		var tc imgmgr.TagCount
		if err := rows.Scan(&tc.Tag, &tc.Count); err != nil {
			return nil, db.fail(op, err)
		}
		tags = append(tags, tc)
	}
	return tags, db.fail(op, rows.Err())
}

// ImageStats returns how many images the owner has ("" = all) and the sum
// of their sizes.
func (db *DB) ImageStats(ctx context.Context, ownerID string) (int, int64, error) {
	q := `SELECT COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM images`
	var args []any
	if ownerID != "" {
		q += ` WHERE owner_id = ?`
		args = append(args, ownerID)
	}
	var (
		n     int
		bytes int64
	)
	err := db.queryRow(ctx, db.r, q, args...).Scan(&n, &bytes)
	return n, bytes, db.fail("meta.ImageStats", err)
}

// UploadsByDay implements meta.Images.
func (db *DB) UploadsByDay(ctx context.Context, ownerID string, since time.Time) ([]imgmgr.DayCount, error) {
	day := fmt.Sprintf(db.d.Day, "created_at")
	q := `SELECT ` + day + `, COUNT(*), CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM images WHERE created_at >= ?`
	args := []any{db.d.EncodeTime(since.UTC().Truncate(time.Microsecond))}
	if ownerID != "" {
		q += ` AND owner_id = ?`
		args = append(args, ownerID)
	}
	rows, err := db.query(ctx, db.r, q+` GROUP BY `+day+` ORDER BY 1`, args...)
	if err != nil {
		return nil, db.fail("meta.UploadsByDay", err)
	}
	defer rows.Close()
	out := []imgmgr.DayCount{}
	for rows.Next() {
		var d imgmgr.DayCount
		if err := rows.Scan(&d.Day, &d.Count, &d.Bytes); err != nil {
			return nil, db.fail("meta.UploadsByDay", err)
		}
		out = append(out, d)
	}
	return out, db.fail("meta.UploadsByDay", rows.Err())
}
