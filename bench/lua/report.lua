-- report.lua - the one line bench/run.sh reads from every wrk run:
--   RESULT <requests> <duration us> <p50 us> <p99 us> <non-2xx/3xx or wrong> <socket errors>
-- Percentiles come from wrk's own latency histogram (microseconds), so no
-- parsing of its human-readable "1.23ms" output is needed.
function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
      latency:percentile(50), latency:percentile(99), e.status,
      e.connect + e.read + e.write + e.timeout))
end
