-- clock.lua - now_us(): CLOCK_MONOTONIC in microseconds, through LuaJIT's
-- ffi, which every wrk thread reads alike (os.clock() is the process's CPU
-- time, os.time() whole seconds).
local ffi = require("ffi")
ffi.cdef [[
   typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
   int clock_gettime(int clock, bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("bench_timespec")

function now_us()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
   return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end
