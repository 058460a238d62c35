-- SPDX-License-Identifier: Apache-2.0
-- 003: check-ins get a sequence in the order the registry received them, so that the desks of
-- one event can fetch each other's check-ins "after the last one I have" (GET /v1/check-ins).

CREATE TABLE check_ins_new (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    nonce TEXT NOT NULL UNIQUE,
    event_id TEXT NOT NULL,
    desk TEXT NOT NULL,
    card_number TEXT NOT NULL,
    at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    received_at INTEGER NOT NULL
);
INSERT INTO check_ins_new (nonce, event_id, desk, card_number, at, device_id, received_at)
    SELECT nonce, event_id, desk, card_number, at, device_id, received_at FROM check_ins
    ORDER BY received_at, nonce;
DROP TABLE check_ins;
ALTER TABLE check_ins_new RENAME TO check_ins;
CREATE INDEX check_ins_event ON check_ins (event_id, seq);
