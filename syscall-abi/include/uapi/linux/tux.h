/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tux(2): the interface of the in-kernel HTTP server TUX.
 *
 *   long tux(unsigned int action, struct tux_req *req, size_t size);
 *
 * The single definition of this ABI is syscall-abi/abi.rs in the tux
 * project; this header is kept equal to it by a test (numbers, sizes,
 * offsets). See tux(2) and Documentation/networking/tux.rst.
 */
#ifndef _UAPI_LINUX_TUX_H
#define _UAPI_LINUX_TUX_H

#include <linux/types.h>

#define TUX_VERSION_MAJOR	4
#define TUX_VERSION_MINOR	0
#define TUX_VERSION_PATCH	0
#define TUX_PACK_VERSION(major, minor, patch) \
	((((major) & 0xff) << 24) | (((minor) & 0xff) << 16) | ((patch) & 0xffff))
#define TUX_VERSION \
	TUX_PACK_VERSION(TUX_VERSION_MAJOR, TUX_VERSION_MINOR, TUX_VERSION_PATCH)

/* Actions, with their classic numbers. */
enum tux_action {
	TUX_ACTION_STARTUP		= 1,
	TUX_ACTION_SHUTDOWN		= 2,
	TUX_ACTION_STARTTHREAD		= 3,
	TUX_ACTION_STOPTHREAD		= 4,
	TUX_ACTION_EVENTLOOP		= 5,
	TUX_ACTION_GET_OBJECT		= 6,
	TUX_ACTION_SEND_OBJECT		= 7,
	TUX_ACTION_READ_OBJECT		= 8,
	TUX_ACTION_FINISH_REQ		= 9,
	TUX_ACTION_FINISH_CLOSE_REQ	= 10,
	TUX_ACTION_REGISTER_MODULE	= 11,
	TUX_ACTION_UNREGISTER_MODULE	= 12,
	TUX_ACTION_CURRENT_DATE		= 13,
	TUX_ACTION_REGISTER_MIMETYPE	= 14,
	TUX_ACTION_READ_HEADERS		= 15,
	TUX_ACTION_POSTPONE_REQ		= 16,
	TUX_ACTION_CONTINUE_REQ		= 17,
	TUX_ACTION_REDIRECT_REQ		= 18,
	TUX_ACTION_READ_POST_DATA	= 19,
	TUX_ACTION_SEND_BUFFER		= 20,
	TUX_ACTION_WATCH_PROXY_SOCKET	= 21,
	TUX_ACTION_WAIT_PROXY_SOCKET	= 22,
	TUX_ACTION_QUERY_VERSION	= 23,
	TUX_ACTION_MAX			= 23,
};

/* Non-negative returns of TUX_ACTION_EVENTLOOP. */
#define TUX_RETURN_USERSPACE_REQUEST	0
#define TUX_RETURN_EXIT			1
#define TUX_RETURN_SIGNAL		2

/* http_method */
#define TUX_METHOD_OTHER	0
#define TUX_METHOD_GET		1
#define TUX_METHOD_HEAD		2
#define TUX_METHOD_POST		3
#define TUX_METHOD_PUT		4
#define TUX_METHOD_DELETE	5
#define TUX_METHOD_OPTIONS	6
#define TUX_METHOD_PATCH	7

/* http_version: major * 10 + minor */
#define TUX_HTTP_1_0	10
#define TUX_HTTP_1_1	11

#define TUX_MAX_THREADS		64
#define TUX_MAX_MODULES		16
#define TUX_MAX_NAME		255
#define TUX_DATE_LEN		29

/*
 * The request block. Pass sizeof(struct tux_req) as size: the kernel
 * accepts any size from TUX_REQ_SIZE_VER0 up to TUX_REQ_SIZE_MAX, with
 * copy_struct_from_user() semantics, and writes back at most size bytes.
 * Pointers are __u64 so that the layout is the same on 32- and 64-bit.
 */
struct tux_req {
	__u32 version;		/* in: TUX_VERSION the caller was built with */
	__u32 http_version;	/* out */
	__u32 http_method;	/* out */
	__u32 http_status;	/* in: status answered, for the access log */
	__u32 event;		/* module-owned */
	__u32 error;		/* out: errno of the last failed action */
	__u32 thread_nr;	/* in: STARTTHREAD / STOPTHREAD */
	__u32 module_index;	/* out */
	__u32 keep_alive;	/* out */
	__u32 client_port;	/* out */
	__u32 client_family;	/* out: AF_INET or AF_INET6 */
	__s32 proxy_fd;		/* in: WATCH_PROXY_SOCKET */
	__u8  client_addr[16];	/* out: network order */
	__u64 id;		/* out of EVENTLOOP, in for per-request actions */
	__u64 private;		/* module-owned */
	__u64 bytes_sent;	/* out */
	__u64 object_len;	/* out of GET_OBJECT */
	__u64 object_mtime;	/* out of GET_OBJECT */
	__u64 headers_len;	/* out: length of the raw request head */
	__u64 body_len;		/* out: Content-Length of the body */
	__u64 buf;		/* in: user buffer */
	__u64 buf_len;		/* in */
	__u64 name;		/* in: object name, module prefix, extension */
	__u64 name_len;		/* in */
	__u64 value;		/* in: MIME type */
	__u64 value_len;	/* in */
	__u64 offset;		/* in: offset into the object */
};

#define TUX_REQ_SIZE_VER0	176
#define TUX_REQ_SIZE_MAX	4096

#endif /* _UAPI_LINUX_TUX_H */
