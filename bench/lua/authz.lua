-- authz.lua - POST /api/v1/authz/check as BENCH_AUTHZ_TOKEN's bearer, about
-- the permissions in BENCH_CHECK (space-separated): one is the single form,
-- {"permission"}, more the batch form, {"permissions": [...]}. The bearer
-- holds them all, so a right answer is a 200 with one true per permission
-- and no false ({"allowed": true}, or {"results": {...: true, ...}}); any
-- other 200 counts with the non-2xx answers in the RESULT line.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")

local asked = {}
for p in string.gmatch(os.getenv("BENCH_CHECK"), "%S+") do
   asked[#asked + 1] = '"' .. p .. '"'
end
wrk.method = "POST"
if #asked == 1 then
   wrk.body = '{"permission":' .. asked[1] .. '}'
else
   wrk.body = '{"permissions":[' .. table.concat(asked, ",") .. ']}'
end
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_AUTHZ_TOKEN")

-- main state: the threads, whose counts done() adds up
local threads = {}
function setup(thread)
   threads[#threads + 1] = thread
end

-- thread state: 200s that were not the right answer
wrong = 0
function response(status, headers, body)
   if status == 200 then
      local _, yes = string.gsub(body, ":%s*true", "")
      if yes ~= #asked or string.find(body, "false", 1, true) then
         wrong = wrong + 1
      end
   end
end

local report = done
function done(summary, latency, requests)
   for _, t in ipairs(threads) do
      summary.errors.status = summary.errors.status + t:get("wrong")
   end
   report(summary, latency, requests)
end
