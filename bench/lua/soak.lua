-- soak.lua - bench/soak.sh's mixed load: each request's kind drawn at
-- random in the shares of SOAK_MIX ("kind:weight ..."), at SOAK_RATE
-- requests/s over SOAK_THREADS wrk threads (unset or 0: as fast as the
-- answers come). The kinds:
--   login       POST /api/v1/auth/login as the user (BENCH_EMAIL,
--               BENCH_PASSWORD): one argon2id hash and a new session
--   refresh     POST /oauth2/token, grant_type=refresh_token
--   me          GET /api/v1/users/me with the newest access token
--   introspect  POST /oauth2/introspect of that token, as the admin
--               (BENCH_ADMIN_TOKEN)
--   admin       as the admin: a role created (POST /api/v1/roles), then
--               given a description (PUT), then deleted, one step a request
--
-- Refresh tokens rotate, so as in refresh.lua each thread keeps a pool of
-- its own sessions' tokens (BENCH_REFRESH_FILE, BENCH_PER_THREAD lines a
-- thread, dealt by deal.lua): a grant takes one and its answer puts the
-- new one back, so no token is ever in two requests. A login's answer
-- adds its session too; past BENCH_CHAINS tokens a thread drops its
-- oldest (that session is left to expire, as a client that went away).
-- So the tokens that are lost when a run ends with grants in flight come
-- back, and done() writes every pool back to BENCH_REFRESH_FILE for the
-- next run: soak.sh runs wrk once a minute.
-- me and introspect use the newest access token of any answer, so the
-- server keeps meeting tokens it has not seen (and caches them), as with
-- real clients; until a thread has one, it sends a refresh grant instead.
--
-- Pacing: a thread's requests are due every SOAK_THREADS / SOAK_RATE
-- seconds from its start, and delay() holds each connection until its
-- request's turn; a thread that fell behind sends at once until it has
-- caught up, so the rate offered over a run stays SOAK_RATE (as long as
-- the connections suffice) however the answers' times vary.
--
-- done() prints, besides report.lua's RESULT line,
--   MIX <kind>=<requests sent> ...
-- and counts as wrong (with the non-2xx answers) an introspection that
-- says the token is not active.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
dofile(os.getenv("BENCH_LUA") .. "/deal.lua")
dofile(os.getenv("BENCH_LUA") .. "/clock.lua")

local KINDS = { "login", "refresh", "me", "introspect", "admin" }
local mix, total = {}, 0
for kind, weight in string.gmatch(os.getenv("SOAK_MIX"), "(%a+):(%d+)") do
   total = total + tonumber(weight)
   mix[#mix + 1] = { kind = kind, upto = total }
end
local rate = tonumber(os.getenv("SOAK_RATE") or "") or 0
local run = os.getenv("SOAK_RUN") or "0"
local chains = tonumber(os.getenv("BENCH_CHAINS"))

-- main state: deal the tokens out, a slice per thread
local threads = {}
function setup(thread)
   deal(thread, os.getenv("BENCH_REFRESH_FILE"))
   thread:set("id", #threads)
   threads[#threads + 1] = thread
end

-- thread state from here on; pool, wrong and sent are globals for done()
pool, wrong, sent = {}, 0, {}
local access, started, serial = nil, false, 0
local created, described = {}, {} -- role ids: to describe, to delete
local json = { ["Content-Type"] = "application/json" }
local form = { ["Content-Type"] = "application/x-www-form-urlencoded" }
local admin = "Bearer " .. os.getenv("BENCH_ADMIN_TOKEN")
local login_body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"),
   os.getenv("BENCH_PASSWORD"))

function init(args)
   for t in string.gmatch(lines or "", "%S+") do
      pool[#pool + 1] = t
   end
   for _, kind in ipairs(KINDS) do
      sent[kind] = 0
   end
   math.randomseed(tonumber(run) * 1000 + id)
end

local function pick()
   local r = math.random(total)
   for _, m in ipairs(mix) do
      if r <= m.upto then
         return m.kind
      end
   end
end

local function admin_write()
   local h = { ["Content-Type"] = "application/json", ["Authorization"] = admin }
   local role = table.remove(described)
   if role then
      return wrk.format("DELETE", "/api/v1/roles/" .. role, h)
   end
   role = table.remove(created)
   if role then
      return wrk.format("PUT", "/api/v1/roles/" .. role, h, '{"description":"soak"}')
   end
   serial = serial + 1
   return wrk.format("POST", "/api/v1/roles", h,
      string.format('{"name":"soak-%s-%d-%d"}', run, id, serial))
end

local build = {
   login = function()
      return wrk.format("POST", "/api/v1/auth/login", json, login_body)
   end,
   refresh = function()
      return wrk.format("POST", "/oauth2/token", form,
         "grant_type=refresh_token&refresh_token=" .. table.remove(pool))
   end,
   me = function()
      return wrk.format("GET", "/api/v1/users/me", { ["Authorization"] = "Bearer " .. access })
   end,
   introspect = function()
      return wrk.format("POST", "/oauth2/introspect",
         { ["Content-Type"] = form["Content-Type"], ["Authorization"] = admin }, "token=" .. access)
   end,
   admin = admin_write,
}

-- wrk calls the first thread's request() once before any connection, to
-- check it, and throws the request away: that one must not take a token
function request()
   if not started then
      started = true
      return wrk.format("GET", "/health")
   end
   local kind = pick()
   if (kind == "me" or kind == "introspect") and not access then
      kind = "refresh"
   end
   if kind == "refresh" and #pool == 0 then
      kind = "login" -- every chain is in flight or lost: a new session
   end
   sent[kind] = sent[kind] + 1
   return build[kind]()
end

function response(status, headers, body)
   local refresh = body:match('"refresh_token"%s*:%s*"([^"]+)"')
   if refresh and status == 200 then
      pool[#pool + 1] = refresh
      if #pool > chains then
         table.remove(pool, 1)
      end
      access = body:match('"access_token"%s*:%s*"([^"]+)"') or access
   elseif body:find('"active"', 1, true) then
      if not body:find('"active"%s*:%s*true') then
         wrong = wrong + 1
      end
   elseif (status == 200 or status == 201) and body:find('"name"%s*:%s*"soak%-') then
      local role = body:match('"id"%s*:%s*"([^"]+)"')
      if body:find('"description"%s*:%s*"soak"') then
         described[#described + 1] = role
      else
         created[#created + 1] = role
      end
   end
end

if rate > 0 then
   local interval_ms = 1000 * tonumber(os.getenv("SOAK_THREADS")) / rate
   local start_ms, due = nil, 0
   function delay()
      local now = now_us() / 1000
      start_ms = start_ms or now
      local wait = start_ms + due * interval_ms - now
      due = due + 1
      return wait > 0 and wait or 0
   end
end

-- main state: the mix as sent, the wrong answers, and the pools for the
-- next run
local report = done
function done(summary, latency, requests)
   local counts, out = {}, io.open(os.getenv("BENCH_REFRESH_FILE"), "w")
   for _, kind in ipairs(KINDS) do
      counts[kind] = 0
   end
   for _, t in ipairs(threads) do
      summary.errors.status = summary.errors.status + t:get("wrong")
      local s = t:get("sent")
      for _, kind in ipairs(KINDS) do
         counts[kind] = counts[kind] + (s[kind] or 0)
      end
      for _, token in ipairs(t:get("pool")) do
         out:write(token, "\n")
      end
   end
   out:close()
   local line = {}
   for _, kind in ipairs(KINDS) do
      line[#line + 1] = kind .. "=" .. counts[kind]
   end
   io.write("MIX ", table.concat(line, " "), "\n")
   report(summary, latency, requests)
end
