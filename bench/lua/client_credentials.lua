-- client_credentials.lua - OAuth client_credentials grants at full speed:
-- one client, authenticated by client_secret_basic (BENCH_CLIENT_BASIC:
-- base64 of "client_id:secret"), each answer a freshly signed token.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
wrk.method = "POST"
wrk.body = "grant_type=client_credentials"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_CLIENT_BASIC")
