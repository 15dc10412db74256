-- The contact store and its transaction log. Revisions count changes, not transactions: a batch of n changes
-- takes n consecutive revisions. meta keeps the revision counter so a revision is never reused, even after the log
-- rows that carried it are trimmed or the store is cleared.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

-- last_rev: the newest revision handed out. horizon: the newest revision trimmed from the log; Sync from below it
-- cannot be answered from the log and gets clear and then the whole store.
INSERT INTO meta (key, value) VALUES ('last_rev', 0), ('horizon', 0);

-- One row per contact. data is the vCard exactly as given (a BLOB: it may hold bytes that are not UTF-8).
-- source names a contact source that must never be uploaded or merged ('' for ordinary contacts).
-- rev is the revision of the contact's last change; updated is that change's time in Unix nanoseconds.
CREATE TABLE contacts (
    id      TEXT PRIMARY KEY NOT NULL,
    data    BLOB NOT NULL,
    source  TEXT NOT NULL DEFAULT '',
    rev     INTEGER NOT NULL,
    updated INTEGER NOT NULL
);

-- One row per revision. op: 1 add, 2 update, 3 remove, 4 clear (contact_id is '' for clear).
-- origin: 'local' or 'remote:<name>'. at: Unix nanoseconds.
CREATE TABLE changes (
    rev        INTEGER PRIMARY KEY,
    op         INTEGER NOT NULL CHECK (op BETWEEN 1 AND 4),
    contact_id TEXT NOT NULL,
    origin     TEXT NOT NULL,
    at         INTEGER NOT NULL
);

-- Sync folds the log per contact; this index hands it the changes of each contact in order without a sort.
CREATE INDEX changes_by_contact ON changes (contact_id, rev);

-- Sync needs the last clear after a cursor; clears are rare, so a partial index keeps finding it cheap.
CREATE INDEX changes_clears ON changes (rev) WHERE op = 4;

-- Named consumer cursors: the revision up to which the consumer has applied the log.
CREATE TABLE cursors (
    name    TEXT PRIMARY KEY NOT NULL,
    rev     INTEGER NOT NULL,
    updated INTEGER NOT NULL
) WITHOUT ROWID;
