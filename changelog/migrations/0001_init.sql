-- The contact store and its transaction log. Revisions count changes, not transactions: a batch of n changes
-- takes n consecutive revisions.

-- last_rev: the newest revision handed out, kept here so a revision is never reused, even after the log rows
-- that carried it are trimmed or the store is cleared. horizon: the newest revision trimmed from the log; Sync
-- from below it cannot be answered from the log and gets clear and then the whole store. contacts: the number
-- of contacts, kept so counting and Sync's choice of plan do not scan the table.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO meta (key, value) VALUES ('last_rev', 0), ('horizon', 0), ('contacts', 0);

-- One row per contact.
--   data     the vCard exactly as given (a BLOB: it may hold bytes that are not UTF-8);
--   source   '' for ordinary contacts, else the source they came from, never to be uploaded or merged;
--   rev      the revision of the contact's last change; updated: that change's time in Unix nanoseconds;
--   created  the revision of the add that created this incarnation of the ID;
--   origin   the origin of the last change;
--   origin_after  every change to this incarnation after this revision came from origin (0 until a change
--            from another origin).
-- created, origin and origin_after let Sync fold a contact without reading its log in the common case.
CREATE TABLE contacts (
    id           TEXT PRIMARY KEY NOT NULL,
    data         BLOB NOT NULL,
    source       TEXT NOT NULL DEFAULT '',
    rev          INTEGER NOT NULL,
    updated      INTEGER NOT NULL,
    created      INTEGER NOT NULL,
    origin       TEXT NOT NULL,
    origin_after INTEGER NOT NULL
);

-- Sync from a recent revision reads only the contacts changed since.
CREATE INDEX contacts_by_rev ON contacts (rev);

-- One row per revision. op: 1 add, 2 update, 3 remove, 4 clear (contact_id is '' for a clear).
-- origin: 'local' or 'remote:<name>'. at: Unix nanoseconds.
CREATE TABLE changes (
    rev        INTEGER PRIMARY KEY,
    op         INTEGER NOT NULL CHECK (op BETWEEN 1 AND 4),
    contact_id TEXT NOT NULL,
    origin     TEXT NOT NULL,
    at         INTEGER NOT NULL
);

-- A contact's changes in order, for the contacts Sync must fold from the log.
CREATE INDEX changes_by_contact ON changes (contact_id, rev);

-- Removes and clears after a revision: rare, so partial indexes keep finding them cheap.
CREATE INDEX changes_removes ON changes (rev) WHERE op = 3;
CREATE INDEX changes_clears ON changes (rev) WHERE op = 4;

-- Named consumer cursors: the revision up to which the consumer has applied the log.
CREATE TABLE cursors (
    name    TEXT PRIMARY KEY NOT NULL,
    rev     INTEGER NOT NULL,
    updated INTEGER NOT NULL
) WITHOUT ROWID;
