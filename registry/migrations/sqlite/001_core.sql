-- SPDX-License-Identifier: Apache-2.0
-- 001: organisations, members, card applications, cards, status events, serial counters and
-- leases. Times are Unix seconds (UTC); booleans are 0/1.

CREATE TABLE organisations (
    code INTEGER PRIMARY KEY,
    region INTEGER NOT NULL,
    name TEXT NOT NULL
);

CREATE TABLE members (
    id TEXT PRIMARY KEY,
    full_name TEXT NOT NULL,
    region INTEGER NOT NULL,
    organisation_code INTEGER NOT NULL,
    category TEXT NOT NULL,
    consent INTEGER NOT NULL DEFAULT 0
);

-- An application keeps the member's details as they were when it was filed: the card is
-- printed from them.
CREATE TABLE applications (
    id TEXT PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    full_name TEXT NOT NULL,
    region INTEGER NOT NULL,
    organisation_code INTEGER NOT NULL,
    organisation_name TEXT NOT NULL,
    category TEXT NOT NULL,
    reason TEXT NOT NULL,
    consent INTEGER NOT NULL,
    card_sequence INTEGER NOT NULL,
    card_number TEXT,
    created_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done'))
);
CREATE INDEX applications_pending ON applications (state, id);

CREATE TABLE cards (
    number TEXT PRIMARY KEY,
    region INTEGER NOT NULL,
    serial INTEGER NOT NULL,
    member_id TEXT NOT NULL REFERENCES members (id),
    card_sequence INTEGER NOT NULL,
    state TEXT NOT NULL,
    updated_at INTEGER NOT NULL,
    station TEXT NOT NULL,
    last_sequence INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX cards_region_serial ON cards (region, serial);
-- The status list reads only the cards that are not valid, in (region, serial) order.
CREATE INDEX cards_not_valid ON cards (region, serial)
    WHERE state NOT IN ('produced', 'handed_over');

-- content_hash: SHA-256 of the event as sent, to tell a retry from a reused key.
-- state_after: the outcome returned to a retry.
CREATE TABLE events (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL UNIQUE,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    card_number TEXT NOT NULL,
    member_id TEXT NOT NULL,
    station TEXT NOT NULL,
    operator_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    application_id TEXT,
    card_sequence INTEGER NOT NULL,
    reason TEXT NOT NULL,
    device_id TEXT NOT NULL,
    state_after TEXT NOT NULL
);
CREATE INDEX events_card ON events (card_number, sequence);

CREATE TABLE serial_counters (
    region INTEGER PRIMARY KEY,
    next_serial INTEGER NOT NULL
);

CREATE TABLE leases (
    id TEXT PRIMARY KEY,
    region INTEGER NOT NULL,
    first_serial INTEGER NOT NULL,
    count INTEGER NOT NULL,
    station TEXT NOT NULL,
    granted_at INTEGER NOT NULL
);
