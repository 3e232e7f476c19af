package sqldb

import (
	"context"
	"database/sql"

	"github.com/imgmgr/imgmgr"
)

const albumSelect = `SELECT a.id, a.owner_id, a.name, a.created_at,
	(SELECT COUNT(*) FROM images i WHERE i.album_id = a.id) FROM albums a`

func scanAlbum(sc scanner) (*imgmgr.Album, error) {
	var a imgmgr.Album
	if err := sc.Scan(&a.ID, &a.OwnerID, &a.Name, timeScan{&a.CreatedAt}, &a.Count); err != nil {
		return nil, err
	}
	return &a, nil
}

// CreateAlbum inserts a, filling ID and CreatedAt when empty. A name the
// owner already uses gives a Conflict with code "album_exists".
func (db *DB) CreateAlbum(ctx context.Context, a *imgmgr.Album) error {
	const op = "meta.CreateAlbum"
	if a.OwnerID == "" || a.Name == "" {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_album", "owner and name are required"))
	}
	if a.ID == "" {
		a.ID = newID()
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = now()
	}
	a.CreatedAt = norm(a.CreatedAt)
	a.Count = 0
	_, err := db.exec(ctx, db.w, `INSERT INTO albums (id, owner_id, name, created_at) VALUES (?, ?, ?, ?)`,
		a.ID, a.OwnerID, a.Name, db.tv(a.CreatedAt))
	return db.fail(op, db.conflictOr(err, "album_exists", "an album named %q already exists", a.Name))
}

// FindAlbum returns the album with its image count or a NotFound.
func (db *DB) FindAlbum(ctx context.Context, id string) (*imgmgr.Album, error) {
	a, err := scanAlbum(db.queryRow(ctx, db.r, albumSelect+` WHERE a.id = ?`, id))
	return a, db.fail("meta.FindAlbum", notFoundIfNoRows(err, "album"))
}

// FindAlbumByName returns the owner's album with this name or a NotFound.
func (db *DB) FindAlbumByName(ctx context.Context, ownerID, name string) (*imgmgr.Album, error) {
	a, err := scanAlbum(db.queryRow(ctx, db.r, albumSelect+` WHERE a.owner_id = ? AND a.name = ?`, ownerID, name))
	return a, db.fail("meta.FindAlbumByName", notFoundIfNoRows(err, "album"))
}

// ListAlbums returns the owner's albums ("" = everyone's) with their image
// counts, by name then id.
func (db *DB) ListAlbums(ctx context.Context, ownerID string) ([]imgmgr.Album, error) {
	const op = "meta.ListAlbums"
	q := albumSelect
	var args []any
	if ownerID != "" {
		q += ` WHERE a.owner_id = ?`
		args = append(args, ownerID)
	}
	rows, err := db.query(ctx, db.r, q+` ORDER BY a.name, a.id`, args...)
	if err != nil {
		return nil, db.fail(op, err)
	}
	defer rows.Close()
	albums := []imgmgr.Album{}
	for rows.Next() {
		a, err := scanAlbum(rows)
		if err != nil {
			return nil, db.fail(op, err)
		}
		albums = append(albums, *a)
	}
	return albums, db.fail(op, rows.Err())
}

// RenameAlbum renames the album; a name the owner already uses gives a
// Conflict with code "album_exists".
func (db *DB) RenameAlbum(ctx context.Context, id, name string) (*imgmgr.Album, error) {
	const op = "meta.RenameAlbum"
	if name == "" {
		return nil, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_album", "name is required"))
	}
	var a *imgmgr.Album
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := db.exec(ctx, tx, `UPDATE albums SET name = ? WHERE id = ?`, name, id)
		if err := mustAffect(res, db.conflictOr(err, "album_exists", "an album named %q already exists", name), "album"); err != nil {
			return err
		}
		a, err = scanAlbum(db.queryRow(ctx, tx, albumSelect+` WHERE a.id = ?`, id))
		return err
	})
	if err != nil {
		return nil, db.fail(op, err)
	}
	return a, nil
}

// DeleteAlbum deletes the album; its images stay and leave the album.
func (db *DB) DeleteAlbum(ctx context.Context, id string) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.exec(ctx, tx, `UPDATE images SET album_id = NULL, updated_at = ? WHERE album_id = ?`,
			db.tv(now()), id); err != nil {
			return err
		}
		res, err := db.exec(ctx, tx, `DELETE FROM albums WHERE id = ?`, id)
		return mustAffect(res, err, "album")
	})
	return db.fail("meta.DeleteAlbum", err)
}
