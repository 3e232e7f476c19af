-- CDN purge and prefetch tasks (see meta.CDNTask), and the variant URLs
-- served per image that URL purges list.
CREATE TABLE cdn_tasks (
	id              TEXT PRIMARY KEY,
	provider        TEXT NOT NULL,
	kind            TEXT NOT NULL,
	state           TEXT NOT NULL CHECK (state IN ('queued', 'submitted', 'in_progress', 'done', 'failed')),
	items           BYTEA NOT NULL,
	reason          TEXT NOT NULL,
	attempts        INTEGER NOT NULL,
	next_attempt_at TIMESTAMPTZ NOT NULL,
	lease_until     TIMESTAMPTZ,
	claim           TEXT NOT NULL,
	vendor_ids      TEXT NOT NULL,
	error           TEXT NOT NULL,
	created_at      TIMESTAMPTZ NOT NULL,
	submitted_at    TIMESTAMPTZ,
	done_at         TIMESTAMPTZ,
	updated_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX cdn_tasks_due ON cdn_tasks (provider, state, next_attempt_at);
CREATE INDEX cdn_tasks_lease ON cdn_tasks (provider, state, lease_until);
CREATE INDEX cdn_tasks_created ON cdn_tasks (created_at, id);

CREATE TABLE variant_urls (
	image_id   TEXT NOT NULL,
	path       TEXT NOT NULL,
	negotiated BOOLEAN NOT NULL,
	created_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (image_id, path)
);
