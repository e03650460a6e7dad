-- Initial schema: orgs, API tokens (hashes only) and recordings.
--
-- Kept portable between SQLite and PostgreSQL where it costs nothing:
-- TEXT ids, BIGINT times in Unix microseconds (UTC), BOOLEAN, $n placeholders
-- in the queries. Times that may be unknown (stop_us, created_us of a
-- recording) are NULL when unknown; start_us is never NULL because it orders
-- every list (a zero start is stored as the Unix microseconds of year 1).
-- topic_fold is the lower-cased topic, kept so the case-insensitive topic
-- search behaves the same for non-ASCII text on both databases.

-- +goose Up
CREATE TABLE orgs (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_us BIGINT NOT NULL
);

CREATE TABLE tokens (
    id         TEXT PRIMARY KEY,
    hash       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    org_id     TEXT REFERENCES orgs (id),
    created_us BIGINT NOT NULL
);

CREATE INDEX tokens_role ON tokens (role);

CREATE TABLE recordings (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    sip_call_id TEXT NOT NULL,
    status      TEXT NOT NULL,
    topic       TEXT NOT NULL,
    topic_fold  TEXT NOT NULL,
    owner_id    TEXT NOT NULL,
    owner_type  TEXT NOT NULL,
    owner_email TEXT NOT NULL,
    start_us    BIGINT NOT NULL,
    stop_us     BIGINT,
    created_us  BIGINT,
    duration_ms BIGINT NOT NULL,
    size_bytes  BIGINT NOT NULL,
    sample_rate INTEGER NOT NULL,
    channels    INTEGER NOT NULL,
    format      TEXT NOT NULL,
    partial     BOOLEAN NOT NULL,
    end_reason  TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    blob_key    TEXT NOT NULL,
    spool_path  TEXT NOT NULL,
    meta        TEXT NOT NULL
);

-- Every list is ordered by (start_us DESC, id DESC) and paged with a
-- (start_us, id) keyset cursor, so each index ends with those two columns.
CREATE INDEX recordings_start ON recordings (start_us, id);
CREATE INDEX recordings_org_start ON recordings (org_id, start_us, id);
CREATE INDEX recordings_org_status_start ON recordings (org_id, status, start_us, id);
CREATE INDEX recordings_status_start ON recordings (status, start_us, id);
CREATE INDEX recordings_owner_start ON recordings (owner_id, start_us, id);
CREATE INDEX recordings_owner_email_start ON recordings (owner_email, start_us, id);

-- +goose Down
DROP TABLE recordings;
DROP TABLE tokens;
DROP TABLE orgs;
