-- A consumer's own table, written in the same transaction as the store's changes by the crash test.
CREATE TABLE crash_progress (
    batch    INTEGER PRIMARY KEY,
    last_rev INTEGER NOT NULL
);
