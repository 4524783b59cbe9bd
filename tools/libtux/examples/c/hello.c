// SPDX-License-Identifier: GPL-2.0
/*
 * hello.c: a tux user module in C, straight on tux(2).
 *
 *   cc -I syscall-abi/include/uapi -o hello tools/libtux/examples/c/hello.c
 *   ./hello            # then: curl http://host/hello-c
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/tux.h>

#ifndef __NR_tux
#define __NR_tux 473
#endif

static long tux(unsigned int action, struct tux_req *req)
{
	if (req)
		req->version = TUX_VERSION;
	return syscall(__NR_tux, action, req, req ? sizeof(*req) : 0);
}

static int send_all(struct tux_req *req, const char *buf, size_t len)
{
	while (len) {
		long n;

		req->buf = (uint64_t)(uintptr_t)buf;
		req->buf_len = len;
		n = tux(TUX_ACTION_SEND_BUFFER, req);
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(void)
{
	static const char prefix[] = "/hello-c";
	static const char body[] = "Hello from a tux user module in C\n";
	struct tux_req req;
	long v = tux(TUX_ACTION_QUERY_VERSION, NULL);

	if (v < 0) {
		perror("tux(QUERY_VERSION)");
		return 1;
	}
	if ((v >> 24) != TUX_VERSION_MAJOR || ((v >> 16) & 0xff) < TUX_VERSION_MINOR) {
		fprintf(stderr, "incompatible kernel tux ABI %#lx\n", v);
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.name = (uint64_t)(uintptr_t)prefix;
	req.name_len = strlen(prefix);
	if (tux(TUX_ACTION_REGISTER_MODULE, &req) < 0) {
		perror("tux(REGISTER_MODULE)");
		return 1;
	}
	memset(&req, 0, sizeof(req));
	req.thread_nr = 0;
	if (tux(TUX_ACTION_STARTTHREAD, &req) < 0) {
		perror("tux(STARTTHREAD)");
		return 1;
	}
	for (;;) {
		char head[256];
		long r;
		int len;

		memset(&req, 0, sizeof(req));
		r = tux(TUX_ACTION_EVENTLOOP, &req);
		if (r < 0 && errno != EINTR) {
			perror("tux(EVENTLOOP)");
			return 1;
		}
		if (r == TUX_RETURN_EXIT)
			break;
		if (r != TUX_RETURN_USERSPACE_REQUEST)
			continue;
		len = snprintf(head, sizeof(head),
			       "HTTP/1.1 200 OK\r\nServer: tux\r\nContent-Type: text/plain\r\n"
			       "Content-Length: %zu\r\nConnection: %s\r\n\r\n",
			       strlen(body), req.keep_alive ? "keep-alive" : "close");
		if (send_all(&req, head, (size_t)len) == 0 &&
		    (req.http_method == TUX_METHOD_HEAD || send_all(&req, body, strlen(body)) == 0))
			req.http_status = 200;
		else
			req.http_status = 500;
		tux(req.http_status == 200 ? TUX_ACTION_FINISH_REQ : TUX_ACTION_FINISH_CLOSE_REQ, &req);
	}
	memset(&req, 0, sizeof(req));
	req.name = (uint64_t)(uintptr_t)prefix;
	req.name_len = strlen(prefix);
	tux(TUX_ACTION_UNREGISTER_MODULE, &req);
	return 0;
}
