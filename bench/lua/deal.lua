-- deal.lua - for scripts whose requests each use up a line of a file (a
-- one-use token): deal(thread, path), called from setup(), gives each wrk
-- thread its own slice of BENCH_PER_THREAD lines, in the thread's global
-- `lines` (one string, a line each), so that no line goes to two threads.
local next_thread = 0
local all = nil

function deal(thread, path)
   if not all then
      all = {}
      for line in io.lines(path) do
         all[#all + 1] = line
      end
   end
   local per = tonumber(os.getenv("BENCH_PER_THREAD"))
   local first = next_thread * per
   thread:set("lines", table.concat(all, "\n", first + 1, math.min(first + per, #all)))
   next_thread = next_thread + 1
end
