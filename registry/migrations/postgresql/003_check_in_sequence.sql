-- SPDX-License-Identifier: Apache-2.0
-- 003: check-ins get a sequence in the order the registry received them, so that the desks of
-- one event can fetch each other's check-ins "after the last one I have" (GET /v1/check-ins).
-- Check-in writers take the same transaction lock as event writers, so sequence order is
-- commit order and a reader paging by "after" never skips a row committed late.

ALTER TABLE check_ins ADD COLUMN seq BIGSERIAL;
ALTER TABLE check_ins ADD CONSTRAINT check_ins_seq_unique UNIQUE (seq);
DROP INDEX check_ins_event;
CREATE INDEX check_ins_event ON check_ins (event_id, seq);
