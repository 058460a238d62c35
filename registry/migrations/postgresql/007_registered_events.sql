-- SPDX-License-Identifier: Apache-2.0
-- 007: events (seminars, forums, contests) are registered with the desks that check people in
-- at them; the registry takes and gives an event's check-ins only from and to those desks.

CREATE TABLE registered_events (
    id TEXT COLLATE "C" PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE event_desks (
    event_id TEXT COLLATE "C" NOT NULL REFERENCES registered_events (id),
    device_id TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (event_id, device_id)
);
