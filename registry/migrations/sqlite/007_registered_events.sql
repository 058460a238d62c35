-- SPDX-License-Identifier: Apache-2.0
-- 007: events (seminars, forums, contests) are registered with the desks that check people in
-- at them; the registry takes and gives an event's check-ins only from and to those desks.

CREATE TABLE registered_events (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE event_desks (
    event_id TEXT NOT NULL REFERENCES registered_events (id),
    device_id TEXT NOT NULL,
    PRIMARY KEY (event_id, device_id)
);
