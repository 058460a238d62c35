-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST /v1/events, a "produced" event for a new card each time. FIRSTS: the first serial
-- of one leased block per wrk thread ("1200,101200"); COUNT: each block's size; MEMBER: a
-- member id; TOKEN: the station's bearer token. No number is sent twice; a thread that runs out
-- of its block stops (wrk then reports fewer requests, never a padded rate).
local firsts = {}
for f in string.gmatch(os.getenv("FIRSTS"), "%d+") do firsts[#firsts + 1] = tonumber(f) end
local count = tonumber(os.getenv("COUNT"))
local member = os.getenv("MEMBER")
local token = os.getenv("TOKEN")
local at = os.date("!%Y-%m-%dT%H:%M:%SZ") -- the run's own clock, so the bench holds on any day
local card = dofile(os.getenv("SCRIPTS") .. "/card_number.lua")
local threads = 0

function setup(thread)
    thread:set("index", threads)
    threads = threads + 1
end

function init(args)
    next_serial = firsts[index + 1]
    last_serial = next_serial + count - 1
end

function request()
    if next_serial > last_serial then
        wrk.thread:stop()
        return wrk.format("GET", "/v1/health") -- never sent: the thread has stopped
    end
    local number = card.compose(23, next_serial)
    next_serial = next_serial + 1
    local json = string.format(
        '{"idempotency_key":"bench-%s","kind":"produced","card_number":"%s","member_id":"%s",' ..
        '"station":"st-23-01","operator":"bench","at":"%s","card_sequence":1,"reason":""}',
        number, number, member, at)
    return wrk.format("POST", "/v1/events",
        {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, json)
end
