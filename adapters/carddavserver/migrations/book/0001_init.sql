-- One row per resource name ever stored in the address book, written in the same transaction as the
-- changelog entry of each PUT and DELETE. The vCard itself is the changelog's contact with ID = name.
--   uid      the vCard's UID while the resource exists, NULL once deleted;
--   etag     the strong ETag of the body ('' once deleted);
--   size     the body's length in bytes;
--   rev      the changelog revision of the resource's last change (its PUT or its DELETE);
--   modified the time of that change, Unix nanoseconds;
--   deleted  1 for a tombstone, kept so sync-collection can report the deletion (RFC 6578 section 3.1)
--            until the history it belongs to is trimmed.
CREATE TABLE members (
    name     TEXT PRIMARY KEY NOT NULL,
    uid      TEXT,
    etag     TEXT NOT NULL,
    size     INTEGER NOT NULL,
    rev      INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    deleted  INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1))
);

-- sync-collection: what changed after a revision, in revision order.
CREATE INDEX members_by_rev ON members (rev);

-- no-uid-conflict (RFC 6352 section 6.3.2.1): one live resource per UID.
CREATE UNIQUE INDEX members_by_uid ON members (uid) WHERE deleted = 0;

-- horizon: tokens older than this revision are refused (their tombstones may be gone).
CREATE TABLE book_meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO book_meta (key, value) VALUES ('horizon', 0);
