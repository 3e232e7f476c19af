package sqldb

import (
	"context"
	"database/sql"

	"github.com/imgmgr/imgmgr"
)

const userCols = `id, username, role, password_hash, password_changed_at, created_at, updated_at`

func scanUser(sc scanner) (*imgmgr.User, error) {
	var u imgmgr.User
	err := sc.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash,
		timeScan{&u.PasswordChangedAt}, timeScan{&u.CreatedAt}, timeScan{&u.UpdatedAt})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser inserts u, filling its ID, role (user) and times when empty.
// Usernames are compared exactly (callers normalise them); a taken one
// gives a Conflict with code "username_taken".
func (db *DB) CreateUser(ctx context.Context, u *imgmgr.User) error {
	const op = "meta.CreateUser"
	if u.Username == "" {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_username", "username is empty"))
	}
	if u.Role == "" {
		u.Role = imgmgr.RoleUser
	}
	if !u.Role.Valid() {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_role", "unknown role %q", u.Role))
	}
	if u.ID == "" {
		u.ID = newID()
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = norm(u.CreatedAt)
	if u.UpdatedAt.IsZero() {
		u.UpdatedAt = u.CreatedAt
	}
	u.UpdatedAt = norm(u.UpdatedAt)
	if u.PasswordChangedAt.IsZero() {
		u.PasswordChangedAt = u.CreatedAt
	}
	u.PasswordChangedAt = norm(u.PasswordChangedAt)
	_, err := db.exec(ctx, db.w, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, string(u.Role), u.PasswordHash,
		db.tv(u.PasswordChangedAt), db.tv(u.CreatedAt), db.tv(u.UpdatedAt))
	return db.fail(op, db.conflictOr(err, "username_taken", "username %q is taken", u.Username))
}

// FindUserByID returns the user or a NotFound.
func (db *DB) FindUserByID(ctx context.Context, id string) (*imgmgr.User, error) {
	u, err := db.findUser(ctx, db.r, `id = ?`, id)
	return u, db.fail("meta.FindUserByID", err)
}

// FindUserByUsername returns the user with exactly this username or a NotFound.
func (db *DB) FindUserByUsername(ctx context.Context, username string) (*imgmgr.User, error) {
	u, err := db.findUser(ctx, db.r, `username = ?`, username)
	return u, db.fail("meta.FindUserByUsername", err)
}

func (db *DB) findUser(ctx context.Context, q querier, where string, arg any) (*imgmgr.User, error) {
	u, err := scanUser(db.queryRow(ctx, q, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	return u, notFoundIfNoRows(err, "user")
}

// ListUsers returns every user, by username.
func (db *DB) ListUsers(ctx context.Context) ([]imgmgr.User, error) {
	const op = "meta.ListUsers"
	rows, err := db.query(ctx, db.r, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, db.fail(op, err)
	}
	defer rows.Close()
	users := []imgmgr.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, db.fail(op, err)
		}
		users = append(users, *u)
	}
	return users, db.fail(op, rows.Err())
}

// UpdateUser changes the role and/or password hash; a new hash also moves
// PasswordChangedAt to now.
func (db *DB) UpdateUser(ctx context.Context, id string, upd imgmgr.UserUpdate) (*imgmgr.User, error) {
	const op = "meta.UpdateUser"
	if upd.Role != nil && !upd.Role.Valid() {
		return nil, imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_role", "unknown role %q", *upd.Role))
	}
	var u *imgmgr.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = db.findUser(ctx, tx, `id = ?`, id); err != nil {
			return err
		}
		t := now()
		if upd.Role != nil {
			u.Role = *upd.Role
		}
		if upd.PasswordHash != nil {
			u.PasswordHash = *upd.PasswordHash
			u.PasswordChangedAt = t
		}
		u.UpdatedAt = t
		_, err = db.exec(ctx, tx, `UPDATE users SET role = ?, password_hash = ?, password_changed_at = ?, updated_at = ? WHERE id = ?`,
			string(u.Role), u.PasswordHash, db.tv(u.PasswordChangedAt), db.tv(u.UpdatedAt), id)
		return err
	})
	if err != nil {
		return nil, db.fail(op, err)
	}
	return u, nil
}

// DeleteUser deletes the user with its API keys, refresh tokens and
// (empty) albums. A user who still owns images is not deleted: that gives
// a Conflict with code "user_has_images" (delete or move the images first,
// so that their blobs, variants and CDN copies are cleaned up too).
func (db *DB) DeleteUser(ctx context.Context, id string) error {
	const op = "meta.DeleteUser"
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.findUser(ctx, tx, `id = ?`, id); err != nil {
			return err
		}
		var n int
		if err := db.queryRow(ctx, tx, `SELECT COUNT(*) FROM images WHERE owner_id = ?`, id).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return imgmgr.Errorf(imgmgr.KindConflict, "user_has_images", "the user still owns %d images", n)
		}
		for _, q := range []string{
			`DELETE FROM api_keys WHERE user_id = ?`,
			`DELETE FROM refresh_tokens WHERE user_id = ?`,
			`DELETE FROM albums WHERE owner_id = ?`,
			`DELETE FROM users WHERE id = ?`,
		} {
			if _, err := db.exec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		return nil
	})
	return db.fail(op, err)
}

// CountUsers returns how many users exist.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, db.r, `SELECT COUNT(*) FROM users`).Scan(&n)
	return n, db.fail("meta.CountUsers", err)
}
