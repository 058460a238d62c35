-- SPDX-License-Identifier: Apache-2.0
-- 002: event check-ins, devices and their tokens, published status lists.

CREATE TABLE check_ins (
    nonce TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    desk TEXT NOT NULL,
    card_number TEXT NOT NULL,
    at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX check_ins_event ON check_ins (event_id, at);

-- Tokens are kept as the lowercase hex SHA-256 of the token only.
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    region INTEGER,
    token_sha256 TEXT UNIQUE,
    expires_at INTEGER NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE status_lists (
    version INTEGER PRIMARY KEY,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
