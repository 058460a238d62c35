-- SPDX-License-Identifier: Apache-2.0
-- 001: organisations, members, card applications, cards, status events, serial counters and
-- leases. Times are Unix seconds (UTC); booleans are 0/1, as in the SQLite schema. Keys are
-- COLLATE "C": byte order, as SQLite's BINARY, so pages of applications come in the same order on
-- both, and comparisons skip the locale (card numbers and ids are ASCII).

CREATE TABLE organisations (
    code BIGINT PRIMARY KEY,
    region INTEGER NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE members (
    id TEXT COLLATE "C" PRIMARY KEY,
    full_name TEXT NOT NULL,
    region INTEGER NOT NULL,
    organisation_code BIGINT NOT NULL,
    category TEXT NOT NULL,
    consent SMALLINT NOT NULL DEFAULT 0
);

-- An application keeps the member's details as they were when it was filed: the card is
-- printed from them.
CREATE TABLE applications (
    id TEXT COLLATE "C" PRIMARY KEY,
    member_id TEXT COLLATE "C" NOT NULL REFERENCES members (id),
    full_name TEXT NOT NULL,
    region INTEGER NOT NULL,
    organisation_code BIGINT NOT NULL,
    organisation_name TEXT NOT NULL,
    category TEXT NOT NULL,
    reason TEXT NOT NULL,
    consent SMALLINT NOT NULL,
    card_sequence INTEGER NOT NULL,
    card_number TEXT,
    created_at BIGINT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done'))
);
CREATE INDEX applications_pending ON applications (state, id);

CREATE TABLE cards (
    number TEXT COLLATE "C" PRIMARY KEY,
    region INTEGER NOT NULL,
    serial BIGINT NOT NULL,
    member_id TEXT COLLATE "C" NOT NULL REFERENCES members (id),
    card_sequence INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    station TEXT NOT NULL,
    last_sequence BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cards_region_serial ON cards (region, serial);
-- The status list reads only the cards that are not valid, in (region, serial) order.
CREATE INDEX cards_not_valid ON cards (region, serial)
    WHERE state NOT IN ('produced', 'handed_over');

-- content_hash: SHA-256 of the event as sent, to tell a retry from a reused key.
-- state_after: the outcome returned to a retry.
CREATE TABLE events (
    sequence BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT COLLATE "C" NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    card_number TEXT COLLATE "C" NOT NULL,
    member_id TEXT NOT NULL,
    station TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    application_id TEXT,
    card_sequence INTEGER NOT NULL,
    reason TEXT NOT NULL,
    device_id TEXT NOT NULL,
    state_after TEXT NOT NULL
);
CREATE INDEX events_card ON events (card_number, sequence);

CREATE TABLE serial_counters (
    region INTEGER PRIMARY KEY,
    next_serial BIGINT NOT NULL
);

CREATE TABLE leases (
    id TEXT COLLATE "C" PRIMARY KEY,
    region INTEGER NOT NULL,
    first_serial BIGINT NOT NULL,
    count INTEGER NOT NULL,
    station TEXT NOT NULL,
    granted_at BIGINT NOT NULL
);
