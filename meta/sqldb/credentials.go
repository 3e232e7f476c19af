package sqldb

import (
	"context"
	"database/sql"
	"time"

	"github.com/imgmgr/imgmgr"
)

const apiKeyCols = `id, user_id, name, prefix, hash, created_at, last_used_at`

func scanAPIKey(sc scanner) (*imgmgr.APIKey, error) {
	var k imgmgr.APIKey
	if err := sc.Scan(&k.ID, &k.UserID, &k.Name, &k.Prefix, &k.Hash,
		timeScan{&k.CreatedAt}, nullTimeScan{&k.LastUsedAt}); err != nil {
		return nil, err
	}
	return &k, nil
}

// CreateAPIKey inserts k, filling its ID and CreatedAt when empty. A hash
// already stored gives a Conflict; a missing user gives an Invalid.
func (db *DB) CreateAPIKey(ctx context.Context, k *imgmgr.APIKey) error {
	const op = "meta.CreateAPIKey"
	if k.UserID == "" || k.Hash == "" {
		return imgmgr.Wrap(op, imgmgr.Errorf(imgmgr.KindInvalid, "invalid_api_key", "user and hash are required"))
	}
	if k.ID == "" {
		k.ID = newID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	k.CreatedAt = norm(k.CreatedAt)
	k.LastUsedAt = normp(k.LastUsedAt)
	_, err := db.exec(ctx, db.w, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, k.Hash, db.tv(k.CreatedAt), db.tpv(k.LastUsedAt))
	return db.fail(op, db.conflictOr(err, "api_key_exists", "the API key already exists"))
}

// FindAPIKeyByHash returns the key with this hash or a NotFound.
func (db *DB) FindAPIKeyByHash(ctx context.Context, hash string) (*imgmgr.APIKey, error) {
	k, err := scanAPIKey(db.queryRow(ctx, db.r, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ?`, hash))
	return k, db.fail("meta.FindAPIKeyByHash", notFoundIfNoRows(err, "API key"))
}

// ListAPIKeys returns the user's keys, oldest first.
func (db *DB) ListAPIKeys(ctx context.Context, userID string) ([]imgmgr.APIKey, error) {
	const op = "meta.ListAPIKeys"
	rows, err := db.query(ctx, db.r, `SELECT `+apiKeyCols+` FROM api_keys WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, db.fail(op, err)
	}
	defer rows.Close()
	keys := []imgmgr.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, db.fail(op, err)
		}
		keys = append(keys, *k)
	}
	return keys, db.fail(op, rows.Err())
}

// DeleteAPIKey deletes the key id of userID; NotFound unless it exists and
// belongs to userID.
func (db *DB) DeleteAPIKey(ctx context.Context, userID, id string) error {
	res, err := db.exec(ctx, db.w, `DELETE FROM api_keys WHERE id = ? AND user_id = ?`, id, userID)
	return db.fail("meta.DeleteAPIKey", mustAffect(res, err, "API key"))
}

// TouchAPIKey records that the key was used at at.
func (db *DB) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	res, err := db.exec(ctx, db.w, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, db.tv(at), id)
	return db.fail("meta.TouchAPIKey", mustAffect(res, err, "API key"))
}

const refreshCols = `hash, family_id, user_id, expires_at, created_at, used_at, revoked_at`

func scanRefresh(sc scanner) (*imgmgr.RefreshToken, error) {
	var t imgmgr.RefreshToken
	if err := sc.Scan(&t.Hash, &t.FamilyID, &t.UserID, timeScan{&t.ExpiresAt}, timeScan{&t.CreatedAt},
		nullTimeScan{&t.UsedAt}, nullTimeScan{&t.RevokedAt}); err != nil {
		return nil, err
	}
	return &t, nil
}

// CreateRefreshToken inserts t, filling CreatedAt when zero.
func (db *DB) CreateRefreshToken(ctx context.Context, t *imgmgr.RefreshToken) error {
	return db.fail("meta.CreateRefreshToken", db.insertRefresh(ctx, db.w, t))
}

func (db *DB) insertRefresh(ctx context.Context, q querier, t *imgmgr.RefreshToken) error {
	if t.Hash == "" || t.FamilyID == "" || t.UserID == "" {
		return imgmgr.Errorf(imgmgr.KindInvalid, "invalid_refresh_token", "hash, family and user are required")
	}
	if t.CreatedAt.IsZero() {
		t.CreatedAt = now()
	}
	t.CreatedAt = norm(t.CreatedAt)
	t.ExpiresAt = norm(t.ExpiresAt)
	t.UsedAt, t.RevokedAt = normp(t.UsedAt), normp(t.RevokedAt)
	_, err := db.exec(ctx, q, `INSERT INTO refresh_tokens (`+refreshCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		t.Hash, t.FamilyID, t.UserID, db.tv(t.ExpiresAt), db.tv(t.CreatedAt), db.tpv(t.UsedAt), db.tpv(t.RevokedAt))
	return db.conflictOr(err, "refresh_token_exists", "the refresh token already exists")
}

// FindRefreshToken returns the token with this hash or a NotFound. It does
// not check expiry, use or revocation: the caller does.
func (db *DB) FindRefreshToken(ctx context.Context, hash string) (*imgmgr.RefreshToken, error) {
	t, err := scanRefresh(db.queryRow(ctx, db.r, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = ?`, hash))
	return t, db.fail("meta.FindRefreshToken", notFoundIfNoRows(err, "refresh token"))
}

// UseRefreshToken marks the token used and stores next in its family, in
// one transaction. A token already used or revoked changes nothing and
// gives a Conflict with code "refresh_token_reused"; an unknown one a
// NotFound. next's FamilyID and UserID are filled from the used token when
// empty and must match it otherwise. Expiry is the caller's to check.
func (db *DB) UseRefreshToken(ctx context.Context, hash string, next *imgmgr.RefreshToken) error {
	const op = "meta.UseRefreshToken"
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		cur, err := scanRefresh(db.queryRow(ctx, tx, `SELECT `+refreshCols+` FROM refresh_tokens WHERE hash = ?`, hash))
		if err != nil {
			return notFoundIfNoRows(err, "refresh token")
		}
		if next.FamilyID == "" {
			next.FamilyID = cur.FamilyID
		}
		if next.UserID == "" {
			next.UserID = cur.UserID
		}
		if next.FamilyID != cur.FamilyID || next.UserID != cur.UserID {
			return imgmgr.Errorf(imgmgr.KindInvalid, "refresh_family_mismatch", "the next token must continue the same family")
		}
		// The guarded UPDATE is what makes a use atomic: of two racing
		// uses only one sees used_at still NULL.
		res, err := db.exec(ctx, tx, `UPDATE refresh_tokens SET used_at = ? WHERE hash = ? AND used_at IS NULL AND revoked_at IS NULL`,
			db.tv(now()), hash)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return imgmgr.Errorf(imgmgr.KindConflict, "refresh_token_reused", "the refresh token was already used or revoked")
		}
		return db.insertRefresh(ctx, tx, next)
	})
	return db.fail(op, err)
}

// RevokeRefreshFamily revokes every token of the family not revoked yet.
// An unknown family is not an error.
func (db *DB) RevokeRefreshFamily(ctx context.Context, familyID string) error {
	_, err := db.exec(ctx, db.w, `UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL`,
		db.tv(now()), familyID)
	return db.fail("meta.RevokeRefreshFamily", err)
}

// RevokeUserRefreshTokens revokes every token of the user not revoked yet.
func (db *DB) RevokeUserRefreshTokens(ctx context.Context, userID string) error {
	_, err := db.exec(ctx, db.w, `UPDATE refresh_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`,
		db.tv(now()), userID)
	return db.fail("meta.RevokeUserRefreshTokens", err)
}
