-- introspect.lua - RFC 7662 introspection of an access token: a form POST
-- naming the user's token, by an admin's bearer token (introspection is
-- for callers holding sessions:read, or for introspecting clients).
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
local token = os.getenv("BENCH_TOKEN")
wrk.method = "POST"
wrk.body = "token=" .. token
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("BENCH_ADMIN_TOKEN")
