-- SPDX-License-Identifier: LGPL-2.1-or-later
-- wrk's script for bench/server.sh: POSTs the pre-made request bodies of a
-- file (one JSON body a line, bench/make-requests) to the path given, each
-- wrk thread taking every THREADS-th line from OFFSET on, cycling when the
-- file runs out; at the end prints one line of figures for server.sh.
--
--   wrk ... -s bench/server.lua URL -- FILE PATH OFFSET THREADS

local threads_made = 0

function setup(thread)
        thread:set("id", threads_made)
        threads_made = threads_made + 1
end

local bodies, n, i, step, path
local headers = { ["Content-Type"] = "application/json" }

function init(args)
        bodies = {}
        for line in io.lines(args[1]) do
                bodies[#bodies + 1] = line
        end
        n = #bodies
        path = args[2]
        step = tonumber(args[4])
        i = tonumber(args[3]) + id
end

function request()
        local body = bodies[i % n + 1]
        i = i + step
        return wrk.format("POST", path, headers, body)
end

-- Answers that are not 200 are counted as failures: the benchmark only
-- sends requests the server must grant.
local failed = 0

function response(status, headers, body)
        if status ~= 200 then
                failed = failed + 1
        end
end

function done(summary, latency, requests)
        local errors = summary.errors
        io.write(string.format("requests=%d seconds=%.3f p50_us=%d p99_us=%d non200=%d socket_errors=%d\n",
                summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
                errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
