-- SPDX-License-Identifier: Apache-2.0
-- Union card numbers for the wrk scripts (docs/card-number.md): prefix 9643, region, serial,
-- Luhn check digit (ISO/IEC 7812-1 Annex B).
local M = {}

function M.luhn(body)
    local sum = 0
    for i = #body, 1, -1 do
        local d = tonumber(body:sub(i, i))
        if (#body - i) % 2 == 0 then
            d = d * 2
            if d > 9 then d = d - 9 end
        end
        sum = sum + d
    end
    return (10 - sum % 10) % 10
end

function M.compose(region, serial)
    local body = string.format("9643%02d%09d", region, serial)
    return body .. M.luhn(body)
end

return M
