-- imgmgr metadata schema for SQLite. Times are TEXT in the fixed-width
-- form 2006-01-02T15:04:05.000000Z (UTC, microseconds), which sorts
-- chronologically. IDs are UUIDv7 text.

CREATE TABLE users (
	id                  TEXT PRIMARY KEY,
	username            TEXT NOT NULL UNIQUE,
	role                TEXT NOT NULL CHECK (role IN ('admin', 'user')),
	password_hash       TEXT NOT NULL,
	password_changed_at TEXT NOT NULL,
	created_at          TEXT NOT NULL,
	updated_at          TEXT NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT PRIMARY KEY,
	user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name         TEXT NOT NULL,
	prefix       TEXT NOT NULL,
	hash         TEXT NOT NULL UNIQUE,
	created_at   TEXT NOT NULL,
	last_used_at TEXT
);
CREATE INDEX api_keys_user ON api_keys (user_id, created_at);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	family_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	expires_at TEXT NOT NULL,
	created_at TEXT NOT NULL,
	used_at    TEXT,
	revoked_at TEXT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

CREATE TABLE albums (
	id         TEXT PRIMARY KEY,
	owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	UNIQUE (owner_id, name)
);

-- Users who own images cannot be deleted (RESTRICT): the store refuses
-- with a Conflict so that the images' blobs are cleaned up first.
CREATE TABLE images (
	id          TEXT PRIMARY KEY,
	owner_id    TEXT NOT NULL REFERENCES users (id) ON DELETE RESTRICT,
	sha256      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	format      TEXT NOT NULL,
	width       INTEGER NOT NULL,
	height      INTEGER NOT NULL,
	frames      INTEGER NOT NULL,
	has_alpha   INTEGER NOT NULL,
	orientation INTEGER NOT NULL,
	title       TEXT NOT NULL,
	filename    TEXT NOT NULL,
	visibility  TEXT NOT NULL CHECK (visibility IN ('private', 'public')),
	album_id    TEXT REFERENCES albums (id) ON DELETE SET NULL,
	created_at  TEXT NOT NULL,
	updated_at  TEXT NOT NULL
);
CREATE INDEX images_sha256 ON images (sha256);
CREATE INDEX images_album ON images (album_id);
CREATE INDEX images_created ON images (created_at, id);
CREATE INDEX images_size ON images (size, id);
CREATE INDEX images_title ON images (title, id);
CREATE INDEX images_owner_created ON images (owner_id, created_at, id);
CREATE INDEX images_owner_size ON images (owner_id, size, id);
CREATE INDEX images_owner_title ON images (owner_id, title, id);

CREATE TABLE image_tags (
	image_id TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
	tag      TEXT NOT NULL,
	PRIMARY KEY (image_id, tag)
);
CREATE INDEX image_tags_tag ON image_tags (tag, image_id);

CREATE TABLE variants (
	key         TEXT PRIMARY KEY,
	sha256      TEXT NOT NULL,
	size        INTEGER NOT NULL,
	format      TEXT NOT NULL,
	created_at  TEXT NOT NULL,
	accessed_at TEXT NOT NULL
);
CREATE INDEX variants_sha256 ON variants (sha256);
CREATE INDEX variants_accessed ON variants (accessed_at, key);

CREATE TABLE jobs (
	id           TEXT PRIMARY KEY,
	kind         TEXT NOT NULL,
	payload      BLOB NOT NULL,
	attempts     INTEGER NOT NULL,
	max_attempts INTEGER NOT NULL,
	run_at       TEXT NOT NULL,
	lease_until  TEXT,
	last_error   TEXT NOT NULL,
	state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
	created_at   TEXT NOT NULL,
	updated_at   TEXT NOT NULL
);
CREATE INDEX jobs_claim ON jobs (state, run_at, id);
CREATE INDEX jobs_lease ON jobs (state, lease_until);
