-- SPDX-License-Identifier: Apache-2.0
-- 005: an idempotency key is the reporting device's own (unique per device, not across the
-- registry), so that no device can take another's key first. SQLite cannot drop a column's
-- UNIQUE in place: the table is rebuilt with its rows, sequences and index.

CREATE TABLE events_by_device (
    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
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
    state_after TEXT NOT NULL,
    UNIQUE (device_id, idempotency_key)
);
INSERT INTO events_by_device SELECT sequence, idempotency_key, content_hash, kind, card_number,
    member_id, station, operator_id, at, received_at, application_id, card_sequence, reason,
    device_id, state_after FROM events;
DROP TABLE events;
ALTER TABLE events_by_device RENAME TO events;
CREATE INDEX events_card ON events (card_number, sequence);
