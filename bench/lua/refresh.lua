-- refresh.lua - refresh-token grants at full speed.
--
-- Refresh tokens rotate: each is good for one use, and using one twice
-- revokes its session. So every token is used exactly once and every
-- answer's new token is used for a later request. Each wrk thread owns a
-- pool of tokens from separate sessions (logins), at least one per
-- connection: a connection takes a token when it sends, and its answer
-- puts the new one back before that connection sends again (wrk calls
-- response() before the next request() on a connection), so no token is
-- ever in two requests. A failed grant, or a connection dropped with a
-- request in flight, loses a token; run.sh deals out twice as many tokens
-- as connections so that a few losses cost nothing, and once a pool is dry
-- requests carry "lost" and count as errors, never as refreshes.
--
-- BENCH_REFRESH_FILE: one refresh token a line; BENCH_PER_THREAD: how many
-- each thread takes.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
dofile(os.getenv("BENCH_LUA") .. "/deal.lua")

-- main state: deal the tokens out, a slice per thread
function setup(thread)
   deal(thread, os.getenv("BENCH_REFRESH_FILE"))
end

-- thread state from here on
local pool = {}
local headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }

function init(args)
   for t in string.gmatch(lines or "", "%S+") do
      pool[#pool + 1] = t
   end
end

function request()
   local t = table.remove(pool) or "lost"
   return wrk.format("POST", "/oauth2/token", headers,
      "grant_type=refresh_token&refresh_token=" .. t)
end

function response(status, hdrs, body)
   local t = body and body:match('"refresh_token"%s*:%s*"([^"]+)"')
   if status == 200 and t then
      pool[#pool + 1] = t
   end
end
