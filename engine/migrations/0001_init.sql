-- The sync engine's state, kept in the contact store's database so that every effect of a sync and the state
-- that records it commit in one transaction.

-- One row per remote (a CardDAV address book this device syncs with).
--   endpoint     the server URL the user gave (discovery starts there);
--   addressbook  the address book's absolute URL, found by discovery;
--   username     the HTTP user (the password is never stored here);
--   sync_token   the RFC 6578 token of the last page applied ('' before the first pull, and after an invalid
--                token, until the full resync that follows completes);
--   listing      1 once the server is known to lack sync-collection: pull lists ETags instead;
--   last_sync    Unix nanoseconds of the last complete sync (0 = never);
--   last_error   the last failure, '' after a success;
--   state        'ok', or 'credentials-rejected' after a 401 (the worker leaves the remote alone until the
--                credentials are replaced).
CREATE TABLE engine_remotes (
    name        TEXT PRIMARY KEY NOT NULL,
    endpoint    TEXT NOT NULL,
    addressbook TEXT NOT NULL,
    username    TEXT NOT NULL DEFAULT '',
    sync_token  TEXT NOT NULL DEFAULT '',
    listing     INTEGER NOT NULL DEFAULT 0,
    last_sync   INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL DEFAULT 'ok',
    created     INTEGER NOT NULL
) WITHOUT ROWID;

-- The mirror: per remote and contact, the last version both sides agreed on (Firefox's mirror table).
--   href, etag  where the contact lives on the server and the ETag of the version in base;
--   base        the vCard bytes the device sent or took under etag, the merge base of the next three-way merge;
--               NULL while no version is agreed yet (a first upload in flight);
--   local_rev   the local revision base corresponds to (informational: decisions compare bytes, because a
--               merge written locally has a newer revision but the same agreed base);
--   pending     the body of an upload whose outcome is unknown, written before the PUT is sent: after a crash
--               the engine fetches the href and, if the server holds this content, records it as agreed
--               instead of taking its own upload for someone else's change. NULL when nothing is in flight.
CREATE TABLE engine_mirror (
    remote     TEXT NOT NULL,
    contact_id TEXT NOT NULL,
    href       TEXT NOT NULL,
    etag       TEXT NOT NULL,
    base       BLOB,
    local_rev  INTEGER NOT NULL,
    pending    BLOB,
    PRIMARY KEY (remote, contact_id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX engine_mirror_by_href ON engine_mirror (remote, href);

-- Items a sync could not apply and went past: a malformed or hostile remote member (kind 'pull', ref = href)
-- or a local contact the server refused (kind 'push', ref = contact id). etag lets a pull skip a bad member
-- until it changes. A later success on the same ref removes the row.
CREATE TABLE engine_set_aside (
    remote TEXT NOT NULL,
    kind   TEXT NOT NULL,
    ref    TEXT NOT NULL,
    etag   TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL,
    at     INTEGER NOT NULL,
    PRIMARY KEY (remote, kind, ref)
) WITHOUT ROWID;
