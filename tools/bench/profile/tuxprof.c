// SPDX-License-Identifier: GPL-2.0
/*
 * tuxprof: a QEMU TCG plugin that counts executed guest instructions per
 * translated-block start address, for tools/bench/profile.py.
 *
 * For every translated block (TB) it adds the block's instruction count to
 * one 64-bit counter per guest virtual start address, each time the block
 * runs (an inline add, no helper call: nearly free). The same address can be
 * translated many times (code-buffer flushes; under -icount QEMU retranslates
 * blocks with fewer instructions when an I/O access or the instruction budget
 * ends them early): every translation adds into the one counter of its
 * address, with its own instruction count, so the sum is exact per address.
 * At exit it writes one line "vaddr_hex total_insns" per address to out=PATH.
 *
 * Arguments (-plugin file=tuxprof.so,out=PATH[,atomic=on][,callers=...]):
 *   out=PATH   where to write the counts (default tuxprof.out)
 *   atomic=on  count with an atomic add in a callback instead of the inline
 *              add: exact under multi-threaded TCG (thread=multi), at the
 *              cost of a helper call per block. The inline add is exact under thread=single,
 *              which is what the icount benchmark uses; under thread=multi
 *              it can lose a few increments when two vCPUs run the same
 *              block at once.
 *   callers=S-E[:S-E...]
 *              also attribute the instructions executed in up to 16 guest
 *              address ranges [S, E) (hex; one function each) to the call
 *              site that entered the range: the last call instruction
 *              executed by that vCPU before the block at S ran. Written to
 *              callers_out=PATH (default: out path + ".callers") as lines
 *              "S_hex callsite_hex insns entries". Costs a callback on
 *              every block that ends with a call (x86 guests only).
 *
 * Build (no QEMU headers needed, see below):
 *   gcc -O2 -shared -fPIC -o tuxprof.so tuxprof.c -lpthread
 *
 * QEMU's qemu-plugin.h is not installed on the host, so this file declares
 * the few functions and types it uses itself. They match the TCG plugin API
 * version 1 (QEMU_PLUGIN_VERSION 1, include/qemu/qemu-plugin.h of QEMU 5.x
 * to 7.2; checked against Debian's qemu-system-x86_64 7.2). None of them
 * uses a glib type.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU TCG plugin API, version 1 (QEMU 7.2): only what is used ---- */
typedef uint64_t qemu_plugin_id_t;

typedef struct qemu_info_t {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
	union {
		struct {
			int smp_vcpus;
			int max_vcpus;
		} system;
	};
} qemu_info_t;

struct qemu_plugin_tb;

enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS,
	QEMU_PLUGIN_CB_R_REGS,
	QEMU_PLUGIN_CB_RW_REGS,
};

enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb, qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
					      void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn;
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

#define EXPORT __attribute__((visibility("default")))
EXPORT int qemu_plugin_version = 1;
EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv);
/* ---- end of the API declarations ---- */

/*
 * One counter per guest start address. Counters never move once allocated
 * (translated code holds their address), so they live in chunks; the hash
 * table holds pointers to them and can be rehashed freely.
 */
struct counter {
	uint64_t insns; /* first member: the inline add targets it */
	uint64_t vaddr;
};

#define CHUNK 4096
struct chunk {
	struct chunk *next;
	size_t used;
	struct counter c[CHUNK];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct counter **table;
static size_t table_size, table_used; /* size: a power of two */
static struct chunk *chunks;
static uint64_t translations;
static const char *out_path = "tuxprof.out";
static bool atomic_mode;

/* callers=: the watched ranges, per-vCPU state and the (range, call site) table. */
#define MAX_RANGES 16
static struct {
	uint64_t start, end;
} ranges[MAX_RANGES];
static unsigned int n_ranges, n_vcpus;
static const char *callers_path;
static uint64_t *last_call;     /* [vcpu]: the last call instruction executed */
static uint64_t *entry_caller;  /* [vcpu * MAX_RANGES + range]: who entered it */

struct edge {
	uint64_t caller;
	uint64_t insns, entries;
	unsigned int range;
};
static struct edge *edges;
static size_t edges_size, edges_used;

static size_t slot_of(uint64_t vaddr, size_t size)
{
	uint64_t h = vaddr * 0x9e3779b97f4a7c15ull;
	return (size_t)(h >> 20) & (size - 1);
}

static void die(const char *what)
{
	fprintf(stderr, "tuxprof: %s\n", what);
	abort();
}

static void grow(void)
{
	size_t n = table_size ? table_size * 2 : 1 << 16;
	struct counter **t = calloc(n, sizeof(*t));

	if (!t)
		die("out of memory");
	for (size_t i = 0; i < table_size; i++) {
		struct counter *c = table[i];

		if (!c)
			continue;
		size_t s = slot_of(c->vaddr, n);
		while (t[s])
			s = (s + 1) & (n - 1);
		t[s] = c;
	}
	free(table);
	table = t;
	table_size = n;
}

/* The counter of vaddr, created on first use. Called with lock held. */
static struct counter *counter_for(uint64_t vaddr)
{
	if (2 * (table_used + 1) > table_size)
		grow();
	size_t s = slot_of(vaddr, table_size);
	for (; table[s]; s = (s + 1) & (table_size - 1))
		if (table[s]->vaddr == vaddr)
			return table[s];
	if (!chunks || chunks->used == CHUNK) {
		struct chunk *ch = calloc(1, sizeof(*ch));

		if (!ch)
			die("out of memory");
		ch->next = chunks;
		chunks = ch;
	}
	struct counter *c = &chunks->c[chunks->used++];
	c->vaddr = vaddr;
	table[s] = c;
	table_used++;
	return c;
}

/* The (range, caller) record, created on first use. Called with lock held. */
static struct edge *edge_for(unsigned int range, uint64_t caller)
{
	if (2 * (edges_used + 1) > edges_size) {
		size_t n = edges_size ? edges_size * 2 : 4096;
		struct edge *t = calloc(n, sizeof(*t));

		if (!t)
			die("out of memory");
		for (size_t i = 0; i < edges_size; i++) {
			if (!edges[i].insns && !edges[i].entries)
				continue;
			size_t s = slot_of(edges[i].caller ^ edges[i].range, n);
			while (t[s].insns || t[s].entries)
				s = (s + 1) & (n - 1);
			t[s] = edges[i];
		}
		free(edges);
		edges = t;
		edges_size = n;
	}
	size_t s = slot_of(caller ^ range, edges_size);
	for (; edges[s].insns || edges[s].entries; s = (s + 1) & (edges_size - 1))
		if (edges[s].caller == caller && edges[s].range == range)
			return &edges[s];
	edges[s].caller = caller;
	edges[s].range = range;
	edges_used++;
	return &edges[s];
}

/* Is this x86 instruction a call (E8 rel32, or FF /2, FF /3)? */
static bool is_call(const uint8_t *p, size_t n)
{
	size_t i = 0;

	while (i < n && (p[i] == 0x26 || p[i] == 0x2e || p[i] == 0x36 || p[i] == 0x3e ||
			 p[i] == 0x64 || p[i] == 0x65 || p[i] == 0x66 || p[i] == 0x67 ||
			 p[i] == 0xf0 || p[i] == 0xf2 || p[i] == 0xf3))
		i++;
	if (i < n && (p[i] & 0xf0) == 0x40) /* REX */
		i++;
	if (i < n && p[i] == 0xe8)
		return true;
	if (i + 1 < n && p[i] == 0xff) {
		unsigned int reg = (p[i + 1] >> 3) & 7;

		return reg == 2 || reg == 3;
	}
	return false;
}

static void on_call(unsigned int vcpu, void *udata)
{
	if (vcpu < n_vcpus)
		last_call[vcpu] = (uint64_t)(uintptr_t)udata;
}

/* userdata: range index (bits 0-7), block starts the range (bit 8), insns (16-). */
static void on_range(unsigned int vcpu, void *udata)
{
	uintptr_t u = (uintptr_t)udata;
	unsigned int r = u & 0xff;
	uint64_t *who;
	struct edge *e;

	if (vcpu >= n_vcpus)
		return;
	who = &entry_caller[(size_t)vcpu * MAX_RANGES + r];
	if (u & 0x100)
		*who = last_call[vcpu];
	pthread_mutex_lock(&lock);
	e = edge_for(r, *who);
	e->insns += u >> 16;
	if (u & 0x100)
		e->entries++;
	pthread_mutex_unlock(&lock);
}

static void watch_calls(struct qemu_plugin_tb *tb, uint64_t vaddr, size_t n)
{
	for (unsigned int r = 0; r < n_ranges; r++)
		if (vaddr >= ranges[r].start && vaddr < ranges[r].end)
			qemu_plugin_register_vcpu_tb_exec_cb(
				tb, on_range, QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)(r | (vaddr == ranges[r].start ? 0x100 : 0) |
						    (uintptr_t)n << 16));
	if (n) {
		struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, n - 1);

		if (is_call(qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn)))
			qemu_plugin_register_vcpu_tb_exec_cb(
				tb, on_call, QEMU_PLUGIN_CB_NO_REGS,
				(void *)(uintptr_t)qemu_plugin_insn_vaddr(insn));
	}
}

/*
 * atomic=on: the userdata is the counter's address with the block's
 * instruction count in the top 16 bits (heap addresses of an x86-64 or
 * arm64 host fit in 48 bits; a TB has at most 512 instructions).
 */
static void tb_exec_atomic(unsigned int vcpu_index, void *udata)
{
	uintptr_t u = (uintptr_t)udata;
	struct counter *c = (struct counter *)(u & ((UINT64_C(1) << 48) - 1));

	(void)vcpu_index;
	__atomic_fetch_add(&c->insns, (uint64_t)(u >> 48), __ATOMIC_RELAXED);
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
	uint64_t vaddr = qemu_plugin_tb_vaddr(tb);
	uint64_t n = qemu_plugin_tb_n_insns(tb);
	struct counter *c;

	(void)id;
	pthread_mutex_lock(&lock);
	c = counter_for(vaddr);
	translations++;
	pthread_mutex_unlock(&lock);
	if (n_ranges)
		watch_calls(tb, vaddr, n);
	if (atomic_mode) {
		if ((uintptr_t)c >> 48 || n >> 16)
			die("counter address or block size out of range for atomic=on");
		qemu_plugin_register_vcpu_tb_exec_cb(tb, tb_exec_atomic, QEMU_PLUGIN_CB_NO_REGS,
						     (void *)((uintptr_t)c | (uintptr_t)n << 48));
	} else {
		qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64,
							 &c->insns, n);
	}
}

static void at_exit(qemu_plugin_id_t id, void *udata)
{
	uint64_t total = 0, lines = 0;
	FILE *f;

	(void)id;
	(void)udata;
	pthread_mutex_lock(&lock);
	f = fopen(out_path, "w");
	if (!f) {
		fprintf(stderr, "tuxprof: %s: %s\n", out_path, strerror(errno));
		pthread_mutex_unlock(&lock);
		return;
	}
	for (struct chunk *ch = chunks; ch; ch = ch->next)
		for (size_t i = 0; i < ch->used; i++) {
			struct counter *c = &ch->c[i];

			if (!c->insns)
				continue;
			fprintf(f, "%" PRIx64 " %" PRIu64 "\n", c->vaddr, c->insns);
			total += c->insns;
			lines++;
		}
	if (fclose(f))
		fprintf(stderr, "tuxprof: %s: %s\n", out_path, strerror(errno));
	else
		fprintf(stderr, "tuxprof: %" PRIu64 " instructions in %" PRIu64 " blocks (%" PRIu64
			" translations) -> %s\n", total, lines, translations, out_path);
	if (n_ranges) {
		f = fopen(callers_path, "w");
		if (!f) {
			fprintf(stderr, "tuxprof: %s: %s\n", callers_path, strerror(errno));
		} else {
			for (size_t i = 0; i < edges_size; i++)
				if (edges[i].insns || edges[i].entries)
					fprintf(f, "%" PRIx64 " %" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
						ranges[edges[i].range].start, edges[i].caller,
						edges[i].insns, edges[i].entries);
			if (fclose(f))
				fprintf(stderr, "tuxprof: %s: %s\n", callers_path, strerror(errno));
		}
	}
	pthread_mutex_unlock(&lock);
}

int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		if (!strncmp(argv[i], "out=", 4)) {
			out_path = argv[i] + 4;
		} else if (!strncmp(argv[i], "callers_out=", 12)) {
			callers_path = argv[i] + 12;
		} else if (!strncmp(argv[i], "callers=", 8)) {
			char *p = argv[i] + 8, *end;

			while (*p) {
				if (n_ranges == MAX_RANGES) {
					fprintf(stderr, "tuxprof: at most %d callers= ranges\n", MAX_RANGES);
					return -1;
				}
				ranges[n_ranges].start = strtoull(p, &end, 16);
				if (*end != '-')
					goto bad;
				ranges[n_ranges].end = strtoull(end + 1, &p, 16);
				if (p == end + 1 || (*p && *p != ':') ||
				    ranges[n_ranges].end <= ranges[n_ranges].start)
					goto bad;
				n_ranges++;
				if (*p)
					p++;
			}
		} else if (!strcmp(argv[i], "atomic=on") || !strcmp(argv[i], "atomic=true")) {
			atomic_mode = true;
		} else if (!strcmp(argv[i], "atomic=off") || !strcmp(argv[i], "atomic=false")) {
			atomic_mode = false;
		} else {
bad:
			fprintf(stderr, "tuxprof: bad argument '%s' (out=PATH, atomic=on|off, "
				"callers=START-END[:START-END...], callers_out=PATH)\n", argv[i]);
			return -1;
		}
	}
	if (n_ranges) {
		static char path[4096];

		if (!callers_path) {
			snprintf(path, sizeof(path), "%s.callers", out_path);
			callers_path = path;
		}
		n_vcpus = info->system_emulation ? (unsigned int)info->system.max_vcpus : 1;
		if (!n_vcpus)
			n_vcpus = 1;
		last_call = calloc(n_vcpus, sizeof(*last_call));
		entry_caller = calloc((size_t)n_vcpus * MAX_RANGES, sizeof(*entry_caller));
		if (!last_call || !entry_caller)
			return -1;
	}
	pthread_mutex_lock(&lock);
	grow();
	pthread_mutex_unlock(&lock);
	qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
	qemu_plugin_register_atexit_cb(id, at_exit, NULL);
	return 0;
}
