-- The soak's request mix (97-soak.sh): static files of every size, ranges,
-- conditionals, gzip negotiation, redirects and the error paths
-- (403, 404). With SOAK_PIPELINE=1 in the environment each write carries
-- the whole mix as one pipelined batch,
-- which is what makes a million requests affordable on the debug kernel;
-- without it, one request per write, and the list also has the answers that
-- close the connection (414, a traversal attempt).
local reqs, batch, i = {}, nil, 0

init = function(args)
	reqs = {
		wrk.format("GET", "/index.html"),
		wrk.format("GET", "/1k.bin"),
		wrk.format("GET", "/16k.bin"),
		wrk.format("GET", "/1m.bin", { Range = "bytes=-100" }),
		wrk.format("GET", "/1m.bin", { Range = "bytes=1000-1999" }),
		wrk.format("GET", "/16k.bin", { Range = "bytes=0-1,5-6" }),
		wrk.format("GET", "/16k.bin", { Range = "bytes=99999999-" }),
		wrk.format("GET", "/index.html", { ["If-Modified-Since"] = "Fri, 01 Jan 2100 00:00:00 GMT" }),
		wrk.format("GET", "/index.html", { ["If-None-Match"] = "\"no-such-etag\"" }),
		wrk.format("GET", "/gz/page.html", { ["Accept-Encoding"] = "gzip" }),
		wrk.format("GET", "/dir"),
		wrk.format("GET", "/dir/"),
		wrk.format("GET", "/private.txt"),
		wrk.format("GET", "/no-such-file"),
		wrk.format("GET", "/escape"),
		wrk.format("GET", "/fifo"),
		wrk.format("GET", "/data.json?x=1&y=%20"),
		wrk.format("GET", "/with%20space.txt"),
	}
	if os.getenv("SOAK_PIPELINE") == "1" then
		-- Twice the mix per write: fewer segments per request.
		batch = table.concat(reqs) .. table.concat(reqs)
	else
		table.insert(reqs, wrk.format("GET", "/" .. string.rep("a", 9000)))
		table.insert(reqs, wrk.format("GET", "/%2e%2e/%2e%2e/etc/passwd"))
	end
end

request = function()
	if batch then
		return batch
	end
	i = i % #reqs + 1
	return reqs[i]
end
