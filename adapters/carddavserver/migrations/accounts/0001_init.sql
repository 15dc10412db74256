-- The server's users and the list of their address books. The contacts of each address book live in a
-- database of their own (books/ID.db), named by the book's random id.

-- hash: "pbkdf2-sha256$ITERATIONS$SALT$KEY" (see password.go); created: Unix nanoseconds.
CREATE TABLE users (
    name    TEXT PRIMARY KEY NOT NULL,
    hash    TEXT NOT NULL,
    created INTEGER NOT NULL
) WITHOUT ROWID;

-- id: random hex, names the book's database file and goes into its sync tokens, so a book deleted and
-- created again under the same name never accepts the old book's tokens.
CREATE TABLE addressbooks (
    owner       TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    id          TEXT NOT NULL UNIQUE,
    displayname TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created     INTEGER NOT NULL,
    PRIMARY KEY (owner, name)
) WITHOUT ROWID;
