-- Control plane: JSON documents with unique lookup keys, the audit log,
-- and the new fields of tokens and recordings.
--
-- Portable as 00001: TEXT ids, BIGINT Unix microseconds (UTC), BOOLEAN,
-- no SQLite-only syntax. Orderings that must survive replaces (objects)
-- or ties in time (audit) use BIGINT sequence numbers the store draws
-- from the counters table (UPDATE ... RETURNING, SQLite 3.35+ and
-- PostgreSQL), so no AUTOINCREMENT/SERIAL dialect is needed.
--
-- Documents (objects.data, audit before/after, tokens.location_ids) are
-- JSON kept as TEXT, so the bytes a caller stores are the bytes it reads
-- back on both databases. objects.org_id is '' for objects of no org
-- (providers); an org's own document has org_id = id.
--
-- The documents of orgs created before this migration (the default org
-- made by EnsureOrg) are written by the store after migrating
-- (Store.Migrate), with the defaults of callrec.Org that only Go knows.

-- +goose Up
CREATE TABLE counters (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

INSERT INTO counters (name, value) VALUES ('objects', 0);
INSERT INTO counters (name, value) VALUES ('audit', 0);

CREATE TABLE objects (
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    data       TEXT NOT NULL,
    seq        BIGINT NOT NULL UNIQUE,
    created_us BIGINT NOT NULL,
    updated_us BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- List (kind, org) and List (kind, every org), both in first-stored order.
CREATE INDEX objects_kind_org_seq ON objects (kind, org_id, seq);
CREATE INDEX objects_kind_seq ON objects (kind, seq);

-- Unique lookup keys across every kind ("email:a@b.example", ...).
CREATE TABLE object_keys (
    key  TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    id   TEXT NOT NULL,
    FOREIGN KEY (kind, id) REFERENCES objects (kind, id) ON DELETE CASCADE
);

CREATE INDEX object_keys_object ON object_keys (kind, id);

CREATE TABLE audit (
    id          TEXT PRIMARY KEY,
    seq         BIGINT NOT NULL UNIQUE,
    org_id      TEXT NOT NULL,
    time_us     BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    actor_role  TEXT NOT NULL,
    action      TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id   TEXT NOT NULL,
    before      TEXT,
    after       TEXT,
    tracking_id TEXT NOT NULL
);

-- ListAudit is newest first: (time_us DESC, seq DESC), after the filters
-- of AuditQuery: every org, one org, one object.
CREATE INDEX audit_time ON audit (time_us, seq);
CREATE INDEX audit_org_time ON audit (org_id, time_us, seq);
CREATE INDEX audit_object_time ON audit (object_type, object_id, time_us, seq);

ALTER TABLE tokens ADD COLUMN partner_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN person_id TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN email TEXT NOT NULL DEFAULT '';
ALTER TABLE tokens ADD COLUMN location_ids TEXT NOT NULL DEFAULT '[]';
ALTER TABLE tokens ADD COLUMN expires_us BIGINT;
-- Partner admins from before partners existed are the bootstrap admin:
-- they manage every org (the root partner).
UPDATE tokens SET partner_id = 'root' WHERE role = 'partnerAdmin' AND partner_id = '';

CREATE INDEX tokens_org ON tokens (org_id);
CREATE INDEX tokens_partner ON tokens (partner_id);
CREATE INDEX tokens_person ON tokens (person_id);

ALTER TABLE recordings ADD COLUMN location_id TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN expires_us BIGINT;
ALTER TABLE recordings ADD COLUMN hold BOOLEAN NOT NULL DEFAULT FALSE;

-- The retention worker reads the recordings due first (expires_us, id);
-- NULL (kept without limit) is never due.
CREATE INDEX recordings_expires ON recordings (expires_us, id);

-- +goose Down
DROP INDEX recordings_expires;
ALTER TABLE recordings DROP COLUMN hold;
ALTER TABLE recordings DROP COLUMN expires_us;
ALTER TABLE recordings DROP COLUMN location_id;
DROP INDEX tokens_person;
DROP INDEX tokens_partner;
DROP INDEX tokens_org;
ALTER TABLE tokens DROP COLUMN expires_us;
ALTER TABLE tokens DROP COLUMN location_ids;
ALTER TABLE tokens DROP COLUMN email;
ALTER TABLE tokens DROP COLUMN person_id;
ALTER TABLE tokens DROP COLUMN partner_id;
DROP TABLE audit;
DROP TABLE object_keys;
DROP TABLE objects;
DROP TABLE counters;
