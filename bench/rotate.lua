-- wrk script of `make bench-pages`: each request takes the next line of a plan file.
-- Usage: wrk -s bench/rotate.lua <url> -- <plan file> <threads>
-- A plan line is a path, optionally a tab and a Cookie header. Thread n of N starts at line
-- n/N of the plan, so threads ask different paths; `wraps` counts how often a thread ran past
-- the end and began again (a plan of new queries must never wrap: then no query repeats).
-- done() prints one JSON line with the figures bench/pages_bench.py reads.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function init(args)
  paths, cookies = {}, {}
  for line in io.lines(args[1]) do
    local path, cookie = line:match("^([^\t]*)\t?(.*)$")
    paths[#paths + 1] = path
    cookies[#cookies + 1] = cookie
  end
  local count = tonumber(args[2]) or 1
  position = math.floor(#paths * id / count)
  wraps = 0
end

function request()
  position = position + 1
  if position > #paths then
    position = 1
    wraps = wraps + 1
  end
  local cookie = cookies[position]
  if cookie ~= nil and cookie ~= "" then
    return wrk.format("GET", paths[position], { Cookie = cookie })
  end
  return wrk.format("GET", paths[position])
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (thread:get("wraps") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "wraps": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, e.connect, e.read, e.write, e.status, e.timeout, wrapped))
end
