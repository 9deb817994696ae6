-- login.lua - password logins of one user: every request costs one
-- argon2id verification on the server.
dofile(os.getenv("BENCH_LUA") .. "/report.lua")
wrk.method = "POST"
wrk.body = string.format('{"email":"%s","password":"%s"}', os.getenv("BENCH_EMAIL"),
   os.getenv("BENCH_PASSWORD"))
wrk.headers["Content-Type"] = "application/json"
