-- mfa_verify.lua - sign-ins' second steps: POST /api/v1/auth/mfa/verify
-- with a TOTP code, each with its own mfa_token and its own user's factor.
--
-- A verify consumes its mfa_token and a factor takes each step once, so a
-- run has as many requests as bench/mfa_users.py made mfa_tokens: each
-- thread takes a slice of BENCH_MFA_FILE ("<mfa_token> <code>" a line,
-- BENCH_PER_THREAD lines) and stops when every one of its verifies has
-- been answered. wrk itself waits out its -d all the same, so the duration
-- in the RESULT line is the script's own: from the first verify sent to
-- the last one answered, over all threads (lua/clock.lua).
-- A connection that asks for a request when its thread's slice is dealt
-- out but not yet all answered waits a second (delay()), by when its
-- thread has usually stopped, and then sends a GET /health, which is not
-- counted in the requests (it is in the latencies, as is one more: see
-- request()).
-- A right answer is a 200 with an access_token; any other 200 counts with
-- the non-2xx answers in the RESULT line.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
dofile(os.getenv("BENCH_LUA") .. "/deal.lua")
dofile(os.getenv("BENCH_LUA") .. "/clock.lua")
local threads = {}

-- main state: deal the lines out, a slice per thread
function setup(thread)
   deal(thread, os.getenv("BENCH_MFA_FILE"))
   threads[#threads + 1] = thread
end

-- thread state from here on
local pool = {}
local dealt, answered = 0, 0
local headers = { ["Content-Type"] = "application/json" }
wrong, idle = 0, 0
first_sent, last_answered = nil, nil

function init(args)
   for token, code in string.gmatch(lines or "", "(%S+) (%d+)") do
      pool[#pool + 1] = string.format('{"mfa_token":"%s","method":"totp","code":"%s"}',
         token, code)
   end
   dealt = #pool
end

-- wrk calls the first thread's request() once before any connection, to
-- check the request, and throws the answer away: so every thread's first
-- request is a /health, which that check may take without losing a verify
local started = false
function delay()
   return #pool > 0 and 0 or 1000
end

function request()
   local body = started and table.remove(pool)
   started = true
   if not body then
      return wrk.format("GET", "/health")
   end
   first_sent = first_sent or now_us()
   return wrk.format("POST", "/api/v1/auth/mfa/verify", headers, body)
end

function response(status, hdrs, body)
   if body == '{"status":"ok"}' or body == '{"status": "ok"}' then
      idle = idle + 1
      return
   end
   answered = answered + 1
   if status == 200 and not string.find(body, '"access_token"', 1, true) then
      wrong = wrong + 1
   end
   if answered == dealt then
      last_answered = now_us()
      wrk.thread:stop()
   end
end

local report = done
function done(summary, latency, requests)
   local from, to = math.huge, 0
   for _, t in ipairs(threads) do
      summary.errors.status = summary.errors.status + t:get("wrong")
      summary.requests = summary.requests - t:get("idle")
      from = math.min(from, t:get("first_sent") or math.huge)
      -- a thread that never got all its answers ran to wrk's end
      to = math.max(to, t:get("last_answered") or math.huge)
   end
   if to < math.huge then
      summary.duration = to - from
   end
   report(summary, latency, requests)
end
