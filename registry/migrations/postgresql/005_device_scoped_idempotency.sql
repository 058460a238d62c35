-- SPDX-License-Identifier: Apache-2.0
-- 005: an idempotency key is the reporting device's own (unique per device, not across the
-- registry), so that no device can take another's key first.

ALTER TABLE events DROP CONSTRAINT events_idempotency_key_key;
ALTER TABLE events ADD CONSTRAINT events_device_idempotency_key UNIQUE (device_id, idempotency_key);
