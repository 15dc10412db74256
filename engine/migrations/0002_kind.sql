-- A remote records its kind of storage (the factory that opens it); every remote made before kinds existed is
-- a CardDAV address book. Its collection is the address book's URL for CardDAV, whatever names the
-- collection for another kind.
ALTER TABLE engine_remotes ADD COLUMN kind TEXT NOT NULL DEFAULT 'carddav';
ALTER TABLE engine_remotes RENAME COLUMN addressbook TO collection;
-- Settings the kind keeps for the remote (for CardDAV the CA file that vouches for a self-hosted server), as a
-- JSON object of strings; '' for none.
ALTER TABLE engine_remotes ADD COLUMN settings TEXT NOT NULL DEFAULT '';
-- What reading back a run of uploads found: 0 not checked yet, 1 the storage keeps the bytes it is sent, 2 it
-- rewrites them (every batch is then read back, so that devices take its bytes).
ALTER TABLE engine_remotes ADD COLUMN rewrites INTEGER NOT NULL DEFAULT 0;
