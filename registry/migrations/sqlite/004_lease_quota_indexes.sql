-- SPDX-License-Identifier: Apache-2.0
-- 004: a lease counts the unused serials of the station's and of the region's leases (the
-- lease quotas), so both are looked up by an index.

CREATE INDEX leases_station ON leases (station);
CREATE INDEX leases_region ON leases (region);
