-- Conflicts a merge resolved, kept so a user can list them and pick the losing value instead. id is the merge's
-- own deterministic conflict ID, so recording the same conflict twice (a retried sync, another device) is a no-op.
-- winner/loser hold the property's content lines. side is the side that lost ('local' or 'remote'); remote names
-- the remote the merge was made with. resolved_rev is the revision of the change that resolved it (0: open).
CREATE TABLE conflicts (
    id           TEXT PRIMARY KEY NOT NULL,
    contact_id   TEXT NOT NULL,
    property     TEXT NOT NULL,
    grp          TEXT NOT NULL DEFAULT '',
    kind         TEXT NOT NULL,
    winner       TEXT NOT NULL,
    loser        TEXT NOT NULL,
    side         TEXT NOT NULL,
    remote       TEXT NOT NULL DEFAULT '',
    at           INTEGER NOT NULL,
    recorded     INTEGER NOT NULL,
    resolved_rev INTEGER NOT NULL DEFAULT 0,
    resolution   TEXT NOT NULL DEFAULT ''
) WITHOUT ROWID;

CREATE INDEX conflicts_open ON conflicts (contact_id) WHERE resolved_rev = 0;
