-- SPDX-License-Identifier: Apache-2.0
-- 006: a device's client certificate pinned by its SHA-256 (lowercase hex of the DER), so that
-- replacing it ends the old one; and the log of who added, disabled, enabled or rotated a
-- device's credential, and when.

ALTER TABLE devices ADD COLUMN cert_sha256 TEXT;

CREATE TABLE device_audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    device_id TEXT NOT NULL,
    action TEXT NOT NULL,
    by_whom TEXT NOT NULL
);
CREATE INDEX device_audit_device ON device_audit (device_id, seq);
