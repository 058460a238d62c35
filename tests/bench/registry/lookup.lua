-- SPDX-License-Identifier: Apache-2.0
-- wrk: GET /v1/cards/{number} for random cards the registry issued. REGIONS="23:1200,77:5000"
-- gives each region's highest serial; TOKEN the bearer token.
local regions = {}
for code, top in string.gmatch(os.getenv("REGIONS"), "(%d+):(%d+)") do
    regions[#regions + 1] = {tonumber(code), tonumber(top)}
end
local token = os.getenv("TOKEN")
local card = dofile(os.getenv("SCRIPTS") .. "/card_number.lua")

function setup(thread)
    thread:set("seed", math.random(1, 1000000))
end

function init(args)
    math.randomseed(seed)
end

function request()
    local r = regions[math.random(1, #regions)]
    local number = card.compose(r[1], math.random(1, r[2]))
    return wrk.format("GET", "/v1/cards/" .. number, {["Authorization"] = "Bearer " .. token})
end
