-- SPDX-License-Identifier: Apache-2.0
-- 002: event check-ins, devices and their tokens, published status lists.

CREATE TABLE check_ins (
    nonce TEXT COLLATE "C" PRIMARY KEY,
    event_id TEXT NOT NULL,
    desk TEXT NOT NULL,
    card_number TEXT NOT NULL,
    at BIGINT NOT NULL,
    device_id TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX check_ins_event ON check_ins (event_id, at);

-- Tokens are kept as the lowercase hex SHA-256 of the token only.
CREATE TABLE devices (
    id TEXT COLLATE "C" PRIMARY KEY,
    role TEXT NOT NULL,
    region INTEGER,
    token_sha256 TEXT COLLATE "C" UNIQUE,
    expires_at BIGINT NOT NULL,
    disabled SMALLINT NOT NULL DEFAULT 0
);

CREATE TABLE status_lists (
    version BIGINT PRIMARY KEY,
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
