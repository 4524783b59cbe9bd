-- The soak's request mix (97-soak.sh): static files of every size, ranges,
-- conditionals, HEAD, gzip negotiation, redirects and the error paths
-- (403, 404, 405, 414), all on keep-alive connections. wrk counts every
-- answer; 97-soak.sh checks the status classes in /proc/net/tux/stats.
local reqs = {
	wrk.format("GET", "/index.html"),
	wrk.format("GET", "/1k.bin"),
	wrk.format("GET", "/16k.bin"),
	wrk.format("HEAD", "/1m.bin"),
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
	wrk.format("GET", "/%2e%2e/%2e%2e/etc/passwd"),
	wrk.format("GET", "/escape"),
	wrk.format("GET", "/fifo"),
	wrk.format("GET", "/" .. string.rep("a", 9000)),
	wrk.format("GET", "/data.json?x=1&y=%20"),
	wrk.format("GET", "/\xc3\xbc.txt"),
}
local i = 0

request = function()
	i = i + 1
	if i > #reqs then i = 1 end
	return reqs[i]
end
