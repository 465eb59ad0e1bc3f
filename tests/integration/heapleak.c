/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * heapleak: a plain DPDK program (no override header, not linked with
 * mpaudit) that leaks from the rte_malloc heap, memzones and libc in known
 * ways, for the heap-tracking tests of the preload (mpa_heap_it.py).
 *
 * It keeps its own ledger of every allocation it wants reported and prints
 * it as ground truth:
 *
 *   heapleak: truth SET kind=K bytes=B count=N type=T memzone=M socket=S
 *             lcores=L non_eal=E via=V addrs=A caller=C site=F
 *   heapleak: truth error type=T heap=H address=A first_site=F site=S
 *   heapleak: truth diff from=X to=Y kind=K change=C bytes_from=.. bytes_to=..
 *             count_from=.. count_to=.. caller=C site=F
 *   heapleak: api NAME=RC
 *
 * (one line each). SET says when the group was made ("malloc" in mode
 * leaks, the phase in other modes); a site is "function (file.c:line)",
 * the line of the allocating call itself, caller the same for the frame
 * above it. "-" is null; type "?" means the test does not check it (the
 * type a record keeps across rte_realloc is not part of the contract).
 * RC is "unavailable" when the preload is absent (the weak mpa_heap_*
 * functions are NULL).
 *
 * The line numbers must be exact, so the program is built with -O1
 * -fno-inline -fno-optimize-sibling-calls -fno-builtin, and each
 * allocating call sits on one line with the AT() macro that records it.
 *
 * Usage: heapleak [EAL options] -- [MODE [ARGS]]
 *   leaks                     (default) leaks of every kind, frees of every
 *                             kind, four bad frees
 *   mt [ITERS [PTHREADS]]     every EAL worker and PTHREADS plain threads
 *                             churn and leak concurrently
 *   snapdiff AB BNOW DUMP     snapshots "a" and "b", their difference to
 *                             file AB, "b" to now to BNOW, a dump copied
 *                             to DUMP
 *   dlclose MODULE            a dlopen()ed module leaks, then is unloaded
 *   signal DIR                leak, "heapleak: ready K", wait for DIR/goK
 *   scoped                    leaks before, during and after
 *                             mpa_heap_track(1) .. mpa_heap_track(0)
 *   churn N                   N live small allocations, then all freed
 *   grow SECS DUMP            for SECS s a kept list grows, a kept set
 *                             stays, a bounded set churns; a dump copied
 *                             to DUMP, then all freed
 *
 * Environment: HEAPLEAK_BAD_FREES=all|rte|libc|none (default all) selects
 * the deliberate bad frees of mode leaks; without the preload they crash
 * the program, so dry runs use none.
 *
 * Exit status 0, or 1 when the program itself fails (EAL, an allocation
 * that returns NULL, bad arguments). Last stdout line: "heapleak: done".
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>
#include <rte_mempool.h>

#include "mpaudit_heap.h"

#define PROG "heapleak"
#define HL_FILE "heapleak.c"
#define KIND_LIBC "libc"
#define KIND_RTE "rte_malloc"
/* Keep the frames the test expects: no inlining, no cloning. */
#define HL_NOINLINE __attribute__((noinline, noclone))

/*
 * The site of the allocating call about to run, per thread. AT(expr)
 * records the enclosing function and the line, then evaluates expr: it
 * must stay on the line of the call. CALL() does the same for the frame
 * above (stack[1]).
 */
static __thread const char *hl_func;
static __thread int hl_line;
static __thread const char *hl_caller;
static __thread int hl_caller_line;
/* Thread entry function that the group's stack must pass through. */
static __thread const char *hl_via;

#define AT(expr) (hl_func = __func__, hl_line = __LINE__, (expr))
#define CALL(expr) (hl_caller = __func__, hl_caller_line = __LINE__, (expr))
/* For frees: the line of @stmt, written on one line with it. */
#define LINE_OF(var, stmt) do { (var) = __LINE__; stmt; } while (0)

/* ---- the ledger ---------------------------------------------------------- */

#define HL_GROUPS 160
#define HL_BLOCKS 64
#define HL_ERRORS 8
#define HL_SNAPS 4

/*
 * The ledger keeps addresses XORed with this: a pointer in the clear in
 * our own data would make every leak "reachable" to the auditor's scan.
 */
#define HL_HIDE ((uintptr_t)0xa5a5a5a5a5a5a5a5u)

struct hl_block {
	uintptr_t hidden;        /* address ^ HL_HIDE */
	size_t size;
	unsigned int lcore;      /* LCORE_ID_ANY: a non-EAL thread */
};

/* What the report should show for one (kind, stack). */
struct hl_group {
	const char *set;
	const char *kind;
	const char *file;
	const char *func;
	int line;
	const char *caller;      /* NULL: not checked */
	int caller_line;
	const char *via;         /* NULL: not checked */
	const char *type;        /* NULL: null, "?": not checked */
	const char *memzone;
	int socket;
	const char *cls;         /* lost, reachable, owned, ? (not checked) */
	const char *owner;       /* owned: the DPDK object */
	uint64_t bytes;          /* live */
	unsigned int n;          /* live blocks, oldest first */
	struct hl_block blk[HL_BLOCKS];
	/* (bytes, count) at each ledger snapshot */
	uint64_t snap_bytes[HL_SNAPS];
	unsigned int snap_count[HL_SNAPS];
};

struct hl_error {
	const char *type;
	const char *heap;
	uintptr_t addr;
	const char *first_func;  /* NULL: null */
	int first_line;
	const char *func;
	int line;
};

static struct hl_group groups[HL_GROUPS];
static unsigned int ngroups;
static struct hl_error errs[HL_ERRORS];
static unsigned int nerrs;
static unsigned int nsnaps;
static pthread_mutex_t hl_lock = PTHREAD_MUTEX_INITIALIZER;
/* The set new groups belong to; only the main thread changes it. */
static const char *hl_set = "malloc";
/*
 * Class the auditor must give the next groups made. Only mode leaks,
 * single-threaded and with its stack scrubbed, promises one; elsewhere
 * stale copies on thread stacks make "lost" or "reachable" a matter of
 * chance, so "?" (not checked).
 */
static const char *hl_class = "?";
static const char *hl_owner;

/* stdout gets a static buffer: stdio must not malloc behind our back. */
static char out_buf[1 << 16];

static void
die(const char *what)
{
	fprintf(stderr, PROG ": %s\n", what);
	fflush(stdout);
	exit(1);
}

static int
same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/*
 * Record @p (@size bytes) as allocated at the site the last AT() set on
 * this thread, below the caller the last CALL() set.
 */
static void
hl_note_at(const char *file, const char *func, int line, const char *kind,
	   const char *type, const char *memzone, int socket, void *p,
	   size_t size)
{
	struct hl_group *g = NULL;
	unsigned int i;

	if (p == NULL) {
		fprintf(stderr, PROG ": %s (%s:%d) returned NULL\n", func, file,
			line);
		die("allocation failed");
	}
	pthread_mutex_lock(&hl_lock);
	for (i = 0; i < ngroups; i++) {
		struct hl_group *c = &groups[i];

		if (c->line == line && strcmp(c->func, func) == 0 &&
		    strcmp(c->file, file) == 0 && strcmp(c->kind, kind) == 0 &&
		    strcmp(c->set, hl_set) == 0 &&
		    same_str(c->caller, hl_caller) &&
		    c->caller_line == hl_caller_line &&
		    same_str(c->via, hl_via)) {
			g = c;
			break;
		}
	}
	if (g == NULL) {
		if (ngroups == HL_GROUPS)
			die("ledger full (HL_GROUPS)");
		g = &groups[ngroups++];
		g->set = hl_set;
		g->kind = kind;
		g->file = file;
		g->func = func;
		g->line = line;
		g->caller = hl_caller;
		g->caller_line = hl_caller_line;
		g->via = hl_via;
		g->type = type;
		g->memzone = memzone;
		g->socket = socket;
		g->cls = hl_class;
		g->owner = hl_owner;
	} else if (!same_str(g->type, type) || !same_str(g->memzone, memzone) ||
		   g->socket != socket) {
		/* The report shows one type/socket per group: keep them equal. */
		die("one site, two types or sockets");
	}
	if (g->n == HL_BLOCKS)
		die("ledger group full (HL_BLOCKS)");
	g->blk[g->n].hidden = (uintptr_t)p ^ HL_HIDE;
	g->blk[g->n].size = size;
	g->blk[g->n].lcore = rte_lcore_id();
	g->n++;
	g->bytes += size;
	pthread_mutex_unlock(&hl_lock);
}

static void
hl_note(const char *kind, const char *type, const char *memzone, int socket,
	void *p, size_t size)
{
	hl_note_at(HL_FILE, hl_func, hl_line, kind, type, memzone, socket, p,
		   size);
}

/* Drop @p from the ledger (before the program frees it). */
static void
hl_forget(const void *p)
{
	pthread_mutex_lock(&hl_lock);
	for (unsigned int i = 0; i < ngroups; i++) {
		struct hl_group *g = &groups[i];

		for (unsigned int j = 0; j < g->n; j++) {
			if ((g->blk[j].hidden ^ HL_HIDE) != (uintptr_t)p)
				continue;
			g->bytes -= g->blk[j].size;
			/* Keep the order: blk[0] stays the oldest. */
			memmove(&g->blk[j], &g->blk[j + 1],
				(g->n - j - 1) * sizeof(g->blk[0]));
			g->n--;
			pthread_mutex_unlock(&hl_lock);
			return;
		}
	}
	pthread_mutex_unlock(&hl_lock);
	die("freeing a block the ledger does not know");
}

static void
hl_free(void *p)
{
	hl_forget(p);
	free(p);
}

static void
hl_rte_free(void *p)
{
	hl_forget(p);
	rte_free(p);
}

/* Free every block of every group (libc and rte_malloc, no memzone). */
static void
hl_free_all(void)
{
	for (unsigned int i = 0; i < ngroups; i++) {
		struct hl_group *g = &groups[i];

		if (g->memzone != NULL && g->n != 0)
			die("hl_free_all: memzones are not freed here");
		while (g->n != 0) {
			if (strcmp(g->kind, KIND_LIBC) == 0)
				hl_free((void *)(g->blk[0].hidden ^ HL_HIDE));
			else
				hl_rte_free((void *)(g->blk[0].hidden ^ HL_HIDE));
		}
	}
}

/*
 * Record a bad free just committed. Its truth line comes at the end; this
 * progress line says how far the program got if one of them crashes it.
 */
static void
hl_error(const char *type, const char *heap, const void *addr,
	 const char *first_func, int first_line, const char *func, int line)
{
	struct hl_error *e;

	printf(PROG ": survived %s in %s\n", type, func);
	fflush(stdout);

	if (nerrs == HL_ERRORS)
		die("too many errors");
	e = &errs[nerrs++];
	e->type = type;
	e->heap = heap;
	e->addr = (uintptr_t)addr;
	e->first_func = first_func;
	e->first_line = first_line;
	e->func = func;
	e->line = line;
}

static const char *
site_str(char *buf, size_t len, const char *func, const char *file, int line)
{
	if (func == NULL)
		return "-";
	snprintf(buf, len, "%s (%s:%d)", func, file, line);
	return buf;
}

static void
print_group(const char *label, const struct hl_group *g)
{
	char site[128], caller[128], lcores[256] = "", addrs[HL_BLOCKS * 20] = "";
	uint64_t lmask = 0;
	unsigned int non_eal = 0;
	size_t off = 0;

	for (unsigned int j = 0; j < g->n; j++) {
		if (g->blk[j].lcore == LCORE_ID_ANY)
			non_eal++;
		else if (g->blk[j].lcore < 64)
			lmask |= UINT64_C(1) << g->blk[j].lcore;
		off += snprintf(addrs + off, sizeof(addrs) - off, "%s%#" PRIxPTR,
				j ? "," : "", g->blk[j].hidden ^ HL_HIDE);
	}
	off = 0;
	for (unsigned int l = 0; l < 64; l++)
		if (lmask & (UINT64_C(1) << l))
			off += snprintf(lcores + off, sizeof(lcores) - off,
					"%s%u", off ? "," : "", l);
	printf(PROG ": truth %s kind=%s bytes=%" PRIu64 " count=%u type=%s "
	       "memzone=%s socket=%d lcores=%s non_eal=%u via=%s addrs=%s "
	       "class=%s owner=%s caller=%s site=%s\n",
	       label, g->kind, g->bytes, g->n, g->type ? g->type : "-",
	       g->memzone ? g->memzone : "-", g->socket,
	       lmask ? lcores : "-", non_eal, g->via ? g->via : "-", addrs,
	       g->cls, g->owner ? g->owner : "-",
	       site_str(caller, sizeof(caller), g->caller, HL_FILE,
			g->caller_line),
	       site_str(site, sizeof(site), g->func, g->file, g->line));
}

/* Print the live groups of @set (NULL: every set) under their set name. */
static void
hl_print(const char *set)
{
	for (unsigned int i = 0; i < ngroups; i++)
		if (groups[i].n != 0 && (set == NULL ||
					 strcmp(groups[i].set, set) == 0))
			print_group(groups[i].set, &groups[i]);
	fflush(stdout);
}

static void
hl_print_errors(void)
{
	char s1[128], s2[128];

	for (unsigned int i = 0; i < nerrs; i++) {
		const struct hl_error *e = &errs[i];

		printf(PROG ": truth error type=%s heap=%s address=%#" PRIxPTR
		       " first_site=%s site=%s\n", e->type, e->heap, e->addr,
		       site_str(s1, sizeof(s1), e->first_func, HL_FILE,
				e->first_line),
		       site_str(s2, sizeof(s2), e->func, HL_FILE, e->line));
	}
	fflush(stdout);
}

/* Ledger snapshot: returns its index for hl_print_diff(). */
static unsigned int
hl_snap(void)
{
	if (nsnaps == HL_SNAPS)
		die("too many ledger snapshots");
	for (unsigned int i = 0; i < ngroups; i++) {
		groups[i].snap_bytes[nsnaps] = groups[i].bytes;
		groups[i].snap_count[nsnaps] = groups[i].n;
	}
	return nsnaps++;
}

/* What mpa_heap_diff_write(@from, @to) must list for our groups. */
static void
hl_print_diff(const char *from, unsigned int sf, const char *to,
	      unsigned int st)
{
	char site[128], caller[128];

	for (unsigned int i = 0; i < ngroups; i++) {
		const struct hl_group *g = &groups[i];
		uint64_t bf = g->snap_bytes[sf], bt = g->snap_bytes[st];
		unsigned int cf = g->snap_count[sf], ct = g->snap_count[st];
		const char *change;

		if (bf == bt && cf == ct)
			continue;
		if (cf == 0)
			change = "new";
		else if (ct == 0)
			change = "gone";
		else if (bt > bf || (bt == bf && ct > cf))
			change = "grown";
		else
			change = "shrunk";
		printf(PROG ": truth diff from=%s to=%s kind=%s change=%s "
		       "bytes_from=%" PRIu64 " bytes_to=%" PRIu64
		       " count_from=%u count_to=%u caller=%s site=%s\n",
		       from, to, g->kind, change, bf, bt, cf, ct,
		       site_str(caller, sizeof(caller), g->caller, HL_FILE,
				g->caller_line),
		       site_str(site, sizeof(site), g->func, g->file, g->line));
	}
	fflush(stdout);
}

/* The preload's functions, or "unavailable" without it. */
static void
print_rc(const char *name, int available, int rc)
{
	if (available)
		printf(PROG ": api %s=%d\n", name, rc);
	else
		printf(PROG ": api %s=unavailable\n", name);
	fflush(stdout);
}

static int
api_track(const char *name, int on)
{
	int rc = mpa_heap_track != NULL ? mpa_heap_track(on) : -ENOTSUP;

	print_rc(name, mpa_heap_track != NULL, rc);
	return rc;
}

static int
api_snapshot(const char *name, const char *snap)
{
	int rc = mpa_heap_snapshot != NULL ? mpa_heap_snapshot(snap) : -ENOTSUP;

	print_rc(name, mpa_heap_snapshot != NULL, rc);
	return rc;
}

static int
api_diff(const char *name, const char *from, const char *to,
	 const char *path)
{
	int rc = mpa_heap_diff_write != NULL ?
		mpa_heap_diff_write(from, to, path) : -ENOTSUP;

	print_rc(name, mpa_heap_diff_write != NULL, rc);
	return rc;
}

/* Keep the compiler from dropping an allocation nobody reads. */
static HL_NOINLINE void
touch(void *p)
{
	if (p == NULL)
		die("allocation failed");
	*(volatile char *)p = 1;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- mode leaks ---------------------------------------------------------- */

/* strdup sources: not constants, so no compiler folds them. */
static char dup_src[] = "heapleak-strdup-leak";   /* 20 characters */

static HL_NOINLINE void
leak_rte_a(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = AT(rte_malloc("hl_rte_a", 1000, 0));
		hl_note(KIND_RTE, "hl_rte_a", NULL, SOCKET_ID_ANY, p, 1000);
	}
}

static HL_NOINLINE void
leak_rte_zsock(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = AT(rte_zmalloc_socket(NULL, 4096, 64, 0));
		hl_note(KIND_RTE, NULL, NULL, 0, p, 4096);
	}
}

static HL_NOINLINE void
leak_rte_calloc(void)
{
	void *p = AT(rte_calloc("hl_calloc", 7, 100, 0));

	hl_note(KIND_RTE, "hl_calloc", NULL, SOCKET_ID_ANY, p, 700);
}

/* Three sites in one function: three groups. */
static HL_NOINLINE void
leak_rte_family(void)
{
	void *p;

	p = AT(rte_malloc_socket("hl_msock", 1100, 0, SOCKET_ID_ANY));
	hl_note(KIND_RTE, "hl_msock", NULL, SOCKET_ID_ANY, p, 1100);
	p = AT(rte_calloc_socket("hl_csock", 3, 300, 0, 0));
	hl_note(KIND_RTE, "hl_csock", NULL, 0, p, 900);
	p = AT(rte_zmalloc("hl_zm", 1300, 0));
	hl_note(KIND_RTE, "hl_zm", NULL, SOCKET_ID_ANY, p, 1300);
}

/* One allocation, attributed to the last rte_realloc, at its final size. */
static HL_NOINLINE void
leak_rte_realloc(void)
{
	void *p = rte_malloc("hl_rr", 100, 0);

	touch(p);
	p = rte_realloc(p, 300, 0);
	touch(p);
	p = AT(rte_realloc_socket(p, 500, 0, SOCKET_ID_ANY));
	hl_note(KIND_RTE, "?", NULL, SOCKET_ID_ANY, p, 500);
}

static HL_NOINLINE void
leak_memzone(void)
{
	const struct rte_memzone *mz;

	mz = AT(rte_memzone_reserve("hl_mz_leak", 8192, SOCKET_ID_ANY, 0));
	if (mz == NULL || mz->len != 8192)
		die("rte_memzone_reserve hl_mz_leak");
	/* A memzone is found by its name: owned, not lost. */
	hl_class = "owned";
	hl_owner = "memzone_hl_mz_leak";
	hl_note(KIND_RTE, "memzone", "hl_mz_leak", SOCKET_ID_ANY, mz->addr,
		mz->len);
	mz = AT(rte_memzone_reserve_aligned("hl_mz_leak2", 6144, 0, 0, 4096));
	if (mz == NULL || mz->len != 6144)
		die("rte_memzone_reserve_aligned hl_mz_leak2");
	hl_owner = "memzone_hl_mz_leak2";
	hl_note(KIND_RTE, "memzone", "hl_mz_leak2", 0, mz->addr, mz->len);
	hl_class = "lost";
	hl_owner = NULL;
}

static HL_NOINLINE void
leak_libc(void)
{
	void *p;

	for (int i = 0; i < 3; i++) {
		p = AT(malloc(200));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 200);
	}
	p = AT(calloc(5, 60));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 300);
	p = AT(strdup(dup_src));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, strlen(dup_src) + 1);
}

static HL_NOINLINE void
leak_libc_aligned(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *p = NULL;

	if (AT(posix_memalign(&p, 256, 1280)) != 0)
		die("posix_memalign");
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 1280);
	p = AT(aligned_alloc(64, 640));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 640);
	p = AT(memalign(128, 384));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 384);
	p = AT(valloc(3000));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 3000);
	/* A whole number of pages: pvalloc's rounding does not matter. */
	p = AT(pvalloc(3 * page));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 3 * page);
}

static HL_NOINLINE void
leak_libc_misc(void)
{
	void *p;

	p = AT(reallocarray(NULL, 12, 40));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 480);
	p = AT(strndup(dup_src, 4));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 5);
}

/* malloc 16 -> realloc 64 -> realloc 256: one allocation, the last site. */
static HL_NOINLINE void
leak_realloc_chain(void)
{
	void *p = malloc(16);

	touch(p);
	p = realloc(p, 64);
	touch(p);
	p = AT(realloc(p, 256));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 256);
}

/*
 * Kept, not leaked: a global points at a block that points at another
 * (both reachable). Dropped: a block that points at another, neither
 * pointed at (both lost: a pointer from a lost block proves nothing).
 */
static void *volatile hl_kept;  /* volatile: the store must stay */

static HL_NOINLINE void
keep_chain(void)
{
	void **a, *b;

	hl_class = "reachable";
	a = AT(malloc(96));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, a, 96);
	b = AT(rte_malloc("hl_kept", 1536, 0));
	hl_note(KIND_RTE, "hl_kept", NULL, SOCKET_ID_ANY, b, 1536);
	a[0] = b;
	hl_kept = a;
	hl_class = "lost";
}

static HL_NOINLINE void
drop_chain(void)
{
	void **a, *b;

	a = AT(malloc(88));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, a, 88);
	b = AT(malloc(72));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, b, 72);
	a[0] = b;
	a[1] = b;
}

/*
 * A mempool left to the end: its memory (header, chunks, ring, list
 * entry) is owned by it. Its allocations are DPDK's, so the truth names
 * only the pool and the line that created it.
 */
#define HL_POOL "hl_pool"
#define HL_POOL_N 63
#define HL_POOL_ELT 200

static HL_NOINLINE void
keep_mempool(void)
{
	struct rte_mempool *mp;
	int line;

	LINE_OF(line, mp = rte_mempool_create(HL_POOL, HL_POOL_N, HL_POOL_ELT, 0, 0, NULL, NULL, NULL, NULL, SOCKET_ID_ANY, 0));
	if (mp == NULL)
		die("rte_mempool_create " HL_POOL);
	printf(PROG ": truth pool name=%s n=%u elt_size=%u site=keep_mempool (%s:%d)\n",
	       HL_POOL, HL_POOL_N, HL_POOL_ELT, HL_FILE, line);
}

/* Overwrite the dead stack below us: stale copies of leaked pointers. */
static HL_NOINLINE void
scrub_stack(void)
{
	volatile char junk[256 << 10];

	memset((char *)junk, 0, sizeof(junk));
	__asm__ volatile("" : : "r"(junk) : "memory");
}

/* Every allocating function, every block freed: none may be reported. */
static HL_NOINLINE void
freed_all(unsigned int rounds)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	char name[RTE_MEMZONE_NAMESIZE];

	for (unsigned int r = 0; r < rounds; r++) {
		size_t sz = 32 + r % 200;
		void *p;

		p = rte_malloc("hl_tmp", sz, 0); touch(p); rte_free(p);
		p = rte_zmalloc("hl_tmp", sz, 64); touch(p); rte_free(p);
		p = rte_calloc("hl_tmp", 3, sz, 0); touch(p); rte_free(p);
		p = rte_malloc_socket(NULL, sz, 0, SOCKET_ID_ANY); touch(p);
		rte_free(p);
		p = rte_zmalloc_socket(NULL, sz, 0, 0); touch(p); rte_free(p);
		p = rte_calloc_socket(NULL, 2, sz, 0, SOCKET_ID_ANY); touch(p);
		rte_free(p);
		p = rte_malloc(NULL, sz, 0); touch(p);
		p = rte_realloc(p, sz * 4, 0); touch(p);
		p = rte_realloc_socket(p, sz / 2, 0, SOCKET_ID_ANY); touch(p);
		rte_free(p);
		p = rte_realloc(NULL, sz, 0); touch(p); rte_free(p);

		p = malloc(sz); touch(p); free(p);
		p = malloc(0); if (p != NULL) free(p);
		p = calloc(4, sz); touch(p); free(p);
		p = malloc(sz); touch(p);
		p = realloc(p, sz * 8); touch(p);
		p = realloc(p, sz / 2); touch(p); free(p);
		/* realloc(NULL, n) allocates, realloc(p, 0) frees (glibc). */
		p = realloc(NULL, sz); touch(p);
		p = realloc(p, 0); if (p != NULL) free(p);
		if (posix_memalign(&p, 64, sz) != 0)
			die("posix_memalign");
		touch(p); free(p);
		p = aligned_alloc(32, 32 * (1 + r % 8)); touch(p); free(p);
		p = memalign(256, sz); touch(p); free(p);
		p = valloc(sz); touch(p); free(p);
		p = pvalloc(page); touch(p); free(p);
		p = reallocarray(NULL, 3, sz); touch(p);
		p = reallocarray(p, 6, sz); touch(p); free(p);
		p = strdup(dup_src); touch(p); free(p);
		p = strndup(dup_src, r % 20); touch(p); free(p);
		free(NULL);
		rte_free(NULL);
	}
	for (unsigned int i = 0; i < 16; i++) {
		const struct rte_memzone *mz;

		snprintf(name, sizeof(name), "hl_mz_tmp%u", i);
		mz = rte_memzone_reserve(name, 4096, SOCKET_ID_ANY, 0);
		if (mz == NULL || rte_memzone_free(mz) != 0)
			die("memzone reserve/free");
		mz = rte_memzone_reserve_aligned(name, 3000, 0, 0, 1024);
		if (mz == NULL || rte_memzone_free(mz) != 0)
			die("memzone reserve_aligned/free");
		mz = rte_memzone_reserve_bounded(name, 2048, SOCKET_ID_ANY, 0,
						 64, 4096);
		if (mz == NULL || rte_memzone_free(mz) != 0)
			die("memzone reserve_bounded/free");
	}
}

/* The bad frees: each error's site is the bad call's line. */
static HL_NOINLINE void
bad_double_rte(void)
{
	void *volatile p = rte_malloc("hl_dbl", 64, 0);
	int first, second;

	touch(p);
	LINE_OF(first, rte_free(p));
	LINE_OF(second, rte_free(p));
	hl_error("double_free", KIND_RTE, p, __func__, first, __func__, second);
}

static HL_NOINLINE void
bad_stray_rte(void)
{
	int line;

	LINE_OF(line, rte_free((void *)0x1));
	hl_error("stray_free", KIND_RTE, (void *)0x1, NULL, 0, __func__, line);
}

static HL_NOINLINE void
bad_double_libc(void)
{
	char *volatile p = malloc(48);
	int first, second;

	touch(p);
	LINE_OF(first, free(p));
	LINE_OF(second, free(p));
	hl_error("double_free", KIND_LIBC, p, __func__, first, __func__, second);
}

/*
 * free() of an rte_malloc block: reported against libc (the heap whose
 * free was called), first_site the block's allocation. The block stays
 * allocated, so it is then freed properly: it must not show as a leak.
 */
static HL_NOINLINE void
bad_foreign(void)
{
	void *volatile p;
	int alloc, bad;

	LINE_OF(alloc, p = rte_malloc("hl_foreign", 96, 0));
	touch(p);
	LINE_OF(bad, free(p));
	hl_error("foreign_free", KIND_LIBC, p, __func__, alloc, __func__, bad);
	rte_free(p);
}

static int
mode_leaks(void)
{
	const char *bad = getenv("HEAPLEAK_BAD_FREES");
	int rte_bad, libc_bad;

	if (bad == NULL || strcmp(bad, "all") == 0) {
		rte_bad = libc_bad = 1;
	} else if (strcmp(bad, "rte") == 0) {
		rte_bad = 1;
		libc_bad = 0;
	} else if (strcmp(bad, "libc") == 0) {
		rte_bad = 0;
		libc_bad = 1;
	} else if (strcmp(bad, "none") == 0) {
		rte_bad = libc_bad = 0;
	} else {
		die("HEAPLEAK_BAD_FREES: all, rte, libc or none");
	}

	hl_class = "lost";
	CALL(leak_rte_a());
	CALL(leak_rte_zsock());
	CALL(leak_rte_calloc());
	CALL(leak_rte_family());
	CALL(leak_rte_realloc());
	CALL(leak_memzone());
	CALL(leak_libc());
	CALL(leak_libc_aligned());
	CALL(leak_libc_misc());
	CALL(leak_realloc_chain());
	CALL(keep_chain());
	CALL(drop_chain());
	keep_mempool();
	freed_all(500);
	/* The truth first: it is on record even if a bad free crashes. */
	hl_print(NULL);
	if (rte_bad) {
		bad_double_rte();
		bad_stray_rte();
	}
	if (libc_bad)
		bad_double_libc();
	if (rte_bad && libc_bad)
		bad_foreign();
	hl_print_errors();
	hl_class = "?";
	scrub_stack();
	return 0;
}

/* ---- mode mt ------------------------------------------------------------- */

#define MT_WINDOW 16
#define MT_MBOX 256

struct mt_thread {
	unsigned int t;          /* thread index: workers first */
	pthread_t th;
	uint64_t ops;
};

static unsigned int mt_iters;
static unsigned int mt_total;
static unsigned int mt_ready;
static unsigned int mt_done;

/* Blocks handed between threads, so some are freed by another thread. */
static pthread_mutex_t mbox_lock = PTHREAD_MUTEX_INITIALIZER;
static void *mbox[2][MT_MBOX];
static unsigned int mbox_n[2];

static void
mbox_free(int rte, void *p)
{
	if (rte)
		rte_free(p);
	else
		free(p);
}

/*
 * Put @p in the mailbox; once it is half full, free a block taken from it
 * at random, most likely one another thread allocated.
 */
static void
mbox_swap(int rte, void *p)
{
	void *old = NULL;

	pthread_mutex_lock(&mbox_lock);
	mbox[rte][mbox_n[rte]++] = p;
	if (mbox_n[rte] > MT_MBOX / 2) {
		unsigned int k = (unsigned int)(((uintptr_t)p >> 6) %
						mbox_n[rte]);

		old = mbox[rte][k];
		mbox[rte][k] = mbox[rte][--mbox_n[rte]];
	}
	pthread_mutex_unlock(&mbox_lock);
	if (old != NULL)
		mbox_free(rte, old);
}

static HL_NOINLINE void
mt_leak_libc(size_t size)
{
	void *p = AT(malloc(size));

	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, size);
}

static HL_NOINLINE void
mt_leak_rte(size_t size)
{
	void *p = AT(rte_malloc("hl_mt", size, 0));

	hl_note(KIND_RTE, "hl_mt", NULL, SOCKET_ID_ANY, p, size);
}

/* Thread @t leaks MT_LIBC_N(t) blocks of MT_LIBC_SIZE(t) bytes, etc. */
#define MT_LIBC_N(t) (2u + (t))
#define MT_LIBC_SIZE(t) (100u + 4u * (t))
#define MT_RTE_N(t) (1u + (t))
#define MT_RTE_SIZE(t) (2000u + 64u * (t))

static HL_NOINLINE void
mt_work(struct mt_thread *th)
{
	void *lw[MT_WINDOW] = { NULL }, *rw[MT_WINDOW] = { NULL };
	unsigned int t = th->t, nl = 0, nr = 0;

	__atomic_add_fetch(&mt_ready, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&mt_ready, __ATOMIC_SEQ_CST) < mt_total)
		sched_yield();
	for (unsigned int i = 0; i < mt_iters; i++) {
		size_t sz = 8 + (i * 131u + t * 17u) % 1024;
		unsigned int slot = i % MT_WINDOW;

		free(lw[slot]);
		lw[slot] = malloc(sz);
		touch(lw[slot]);
		rte_free(rw[slot]);
		rw[slot] = rte_malloc(NULL, sz + 64, 0);
		touch(rw[slot]);
		th->ops += 4;
		if (i % 64 == 17) {
			void *p = calloc(3, sz);

			touch(p);
			p = realloc(p, sz * 5);
			touch(p);
			mbox_swap(0, p);
			p = strdup(dup_src);
			touch(p);
			free(p);
			p = rte_zmalloc(NULL, sz, 0);
			touch(p);
			p = rte_realloc(p, sz * 3, 0);
			touch(p);
			mbox_swap(1, p);
			th->ops += 10;
		}
		/* Leaks spread over the run, while the others churn. */
		if (nl < MT_LIBC_N(t) &&
		    i == (uint64_t)(nl + 1) * mt_iters / (MT_LIBC_N(t) + 1)) {
			CALL(mt_leak_libc(MT_LIBC_SIZE(t)));
			nl++;
		}
		if (nr < MT_RTE_N(t) &&
		    i == (uint64_t)(nr + 1) * mt_iters / (MT_RTE_N(t) + 1)) {
			CALL(mt_leak_rte(MT_RTE_SIZE(t)));
			nr++;
		}
	}
	for (unsigned int s = 0; s < MT_WINDOW; s++) {
		free(lw[s]);
		rte_free(rw[s]);
	}
	if (nl != MT_LIBC_N(t) || nr != MT_RTE_N(t))
		die("mt: too few iterations for the leaks");
	__atomic_add_fetch(&mt_done, 1, __ATOMIC_SEQ_CST);
}

static HL_NOINLINE int
mt_lcore_main(void *arg)
{
	hl_via = __func__;
	mt_work(arg);
	return 0;
}

static HL_NOINLINE void *
mt_pthread_main(void *arg)
{
	hl_via = __func__;
	mt_work(arg);
	return NULL;
}

static int
mode_mt(unsigned int iters, unsigned int npthreads)
{
	unsigned int nworkers = rte_lcore_count() - 1, lc, t = 0;
	struct mt_thread th[RTE_MAX_LCORE + 64];
	uint64_t ops = 0;

	if (npthreads > 64)
		die("mt: at most 64 pthreads");
	mt_iters = iters;
	mt_total = nworkers + npthreads;
	memset(th, 0, sizeof(th));
	RTE_LCORE_FOREACH_WORKER(lc) {
		th[t].t = t;
		if (rte_eal_remote_launch(mt_lcore_main, &th[t], lc) != 0)
			die("rte_eal_remote_launch");
		t++;
	}
	for (unsigned int i = 0; i < npthreads; i++, t++) {
		th[t].t = t;
		if (pthread_create(&th[t].th, NULL, mt_pthread_main, &th[t]) != 0)
			die("pthread_create");
	}
	/* Sleep rather than spin in rte_eal_wait_lcore(): fewer CPUs than
	 * threads. */
	while (__atomic_load_n(&mt_done, __ATOMIC_SEQ_CST) < mt_total)
		sleep_ms(10);
	rte_eal_mp_wait_lcore();
	for (unsigned int i = nworkers; i < mt_total; i++)
		pthread_join(th[i].th, NULL);
	for (int k = 0; k < 2; k++)
		while (mbox_n[k] != 0)
			mbox_free(k, mbox[k][--mbox_n[k]]);
	for (unsigned int i = 0; i < mt_total; i++)
		ops += th[i].ops;
	printf(PROG ": mt workers=%u pthreads=%u iters=%u ops=%" PRIu64 "\n",
	       nworkers, npthreads, iters, ops);
	hl_print(NULL);
	return 0;
}

/* ---- mode snapdiff ------------------------------------------------------- */

static void *sd_shrink_p[8];
static void *sd_gone_p[3];
static void *sd_new_rte_p[4];

static HL_NOINLINE void
sd_same(void)
{
	for (int i = 0; i < 6; i++) {
		void *p = AT(malloc(300));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 300);
	}
}

static HL_NOINLINE void
sd_shrink(void)
{
	for (int i = 0; i < 8; i++) {
		void *p = AT(malloc(700));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 700);
		sd_shrink_p[i] = p;
	}
}

static HL_NOINLINE void
sd_gone(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = AT(rte_malloc("hl_sd_gone", 900, 0));
		hl_note(KIND_RTE, "hl_sd_gone", NULL, SOCKET_ID_ANY, p, 900);
		sd_gone_p[i] = p;
	}
}

static HL_NOINLINE void
sd_grow(int n)
{
	for (int i = 0; i < n; i++) {
		void *p = AT(rte_malloc("hl_sd_grow", 128, 0));
		hl_note(KIND_RTE, "hl_sd_grow", NULL, SOCKET_ID_ANY, p, 128);
	}
}

static HL_NOINLINE void
sd_new_libc(void)
{
	for (int i = 0; i < 10; i++) {
		void *p = AT(malloc(512));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 512);
	}
}

static HL_NOINLINE void
sd_new_rte(void)
{
	for (int i = 0; i < 4; i++) {
		void *p = AT(rte_malloc("hl_sd_new", 2048, 0));
		hl_note(KIND_RTE, "hl_sd_new", NULL, SOCKET_ID_ANY, p, 2048);
		sd_new_rte_p[i] = p;
	}
}

static HL_NOINLINE void
sd_after(void)
{
	for (int i = 0; i < 7; i++) {
		void *p = AT(malloc(64));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 64);
	}
}

static HL_NOINLINE void
sd_young(void)
{
	void *p = AT(malloc(96));

	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 96);
}

/* Age of every group but the young one, in the dump. */
#define SD_DUMP_AGE_MS 1500

static int
mode_snapdiff(const char *path_ab, const char *path_bnow,
	      const char *path_dump)
{
	unsigned int sa = 0, sb = 0, snow;
	int active = 0, rc;
	char name[40], nosuch[4096];

	/*
	 * sd_grow() runs in both rounds from one call instruction: one stack,
	 * one group. The counter is volatile so that the compiler cannot peel
	 * the first round into a copy of the call (GCC does at -O1).
	 */
	for (volatile int round = 0; round < 2; round++) {
		CALL(sd_grow(round == 0 ? 2 : 3));
		if (round == 0) {
			CALL(sd_same());
			CALL(sd_shrink());
			CALL(sd_gone());
			sa = hl_snap();
			active = api_snapshot("snapshot_a", "a") == 0;
			CALL(sd_new_libc());
			CALL(sd_new_rte());
			for (int i = 0; i < 5; i++)
				hl_free(sd_shrink_p[i]);
			for (int i = 0; i < 3; i++)
				hl_rte_free(sd_gone_p[i]);
		}
	}
	sb = hl_snap();
	api_snapshot("snapshot_b", "b");
	api_diff("diff_ab", "a", "b", path_ab);
	hl_print_diff("a", sa, "b", sb);

	CALL(sd_after());
	for (int i = 0; i < 4; i++)
		hl_rte_free(sd_new_rte_p[i]);
	snow = hl_snap();
	api_diff("diff_bnow", "b", NULL, path_bnow);
	hl_print_diff("b", sb, "now", snow);

	/* Refusals. */
	api_snapshot("snapshot_dup", "a");
	api_snapshot("snapshot_now", "now");
	api_snapshot("snapshot_empty", "");
	api_snapshot("snapshot_space", "a b");
	api_snapshot("snapshot_slash", "a/b");
	api_snapshot("snapshot_long32", "abcdefghijklmnopqrstuvwxyz012345");
	api_snapshot("snapshot_long31", "abcdefghijklmnopqrstuvwxyz01234");
	/* a, b and the long one: 13 more fill MPA_HEAP_SNAPSHOTS_MAX. */
	rc = 0;
	for (int i = 3; i < MPA_HEAP_SNAPSHOTS_MAX && rc == 0; i++) {
		snprintf(name, sizeof(name), "s-%d.x_", i);
		rc = mpa_heap_snapshot != NULL ? mpa_heap_snapshot(name) :
			-ENOTSUP;
	}
	print_rc("snapshot_fill", mpa_heap_snapshot != NULL, rc);
	api_snapshot("snapshot_full", "one_too_many");
	/* Refused diffs must not write their file. */
	snprintf(nosuch, sizeof(nosuch), "%s.nosuch", path_dump);
	api_diff("diff_nosuch_from", "nosuch", "b", nosuch);
	api_diff("diff_nosuch_to", "a", "nosuch", nosuch);
	api_track("track_on", 1);

	/* A dump lists only what is older than MPAUDIT_STUCK_MS (the test
	 * sets it below SD_DUMP_AGE_MS): the young block is left out. */
	if (active)
		sleep_ms(SD_DUMP_AGE_MS);
	hl_print(NULL);   /* "sd": every live group */
	hl_set = "young";
	CALL(sd_young());
	hl_print("young");
	rc = mpa_heap_dump != NULL ? mpa_heap_dump() : -ENOTSUP;
	print_rc("dump", mpa_heap_dump != NULL, rc);
	if (rc == 0 && getenv("MPAUDIT_REPORT") != NULL &&
	    rename(getenv("MPAUDIT_REPORT"), path_dump) != 0)
		die("cannot move the dump's report");
	hl_free_all();
	return 0;
}

/* ---- mode grow ----------------------------------------------------------- */

/*
 * A leak the program still points at: a list that only grows. Every
 * block stays reachable from grow_kept[], so only its growth tells. Two
 * controls that must not be called growing: a set kept from the start
 * (steady) and a set that churns within a bound.
 */
#define GROW_EVERY_MS 400   /* 60 blocks in 24 s: within HL_BLOCKS */
#define GROW_MAX 512
#define CHURN_N 8

/* volatile: stores nobody reads back must still be made. */
static void *volatile grow_kept[GROW_MAX];
static void *volatile steady_kept[4];
static void *volatile churn_kept[CHURN_N];

static HL_NOINLINE void
grow_one(unsigned int i)
{
	grow_kept[i] = AT(malloc(512));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, grow_kept[i], 512);
}

static HL_NOINLINE void
steady(void)
{
	for (int i = 0; i < 4; i++) {
		steady_kept[i] = AT(rte_malloc("hl_steady", 700, 0));
		hl_note(KIND_RTE, "hl_steady", NULL, SOCKET_ID_ANY, steady_kept[i], 700);
	}
}

/* Replace one block of a bounded set: busy, never growing. */
static HL_NOINLINE void
churn_one(unsigned int i)
{
	unsigned int k = i % CHURN_N;

	if (churn_kept[k] != NULL)
		hl_free(churn_kept[k]);
	churn_kept[k] = AT(malloc(96));
	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, churn_kept[k], 96);
}

static int
mode_grow(unsigned int secs, const char *path_dump)
{
	unsigned int n = secs * 1000 / GROW_EVERY_MS;
	int rc;

	if (n > GROW_MAX)
		die("grow: too many seconds");
	hl_class = "reachable";
	hl_set = "steady";
	CALL(steady());
	for (unsigned int i = 0; i < n; i++) {
		hl_set = "grow";
		CALL(grow_one(i));
		hl_set = "churn";
		CALL(churn_one(i));
		sleep_ms(GROW_EVERY_MS);
	}
	hl_print(NULL);
	rc = mpa_heap_dump != NULL ? mpa_heap_dump() : -ENOTSUP;
	print_rc("dump", mpa_heap_dump != NULL, rc);
	if (rc == 0 && getenv("MPAUDIT_REPORT") != NULL &&
	    rename(getenv("MPAUDIT_REPORT"), path_dump) != 0)
		die("cannot move the dump's report");
	hl_class = "?";
	hl_free_all();
	return 0;
}

/* ---- mode dlclose -------------------------------------------------------- */

/*
 * The module's strings go with it at dlclose(): the ledger keeps copies,
 * in static storage (a malloc here would be one more in-scope block).
 */
static char ext_str[16][64];
static unsigned int ext_nstr;

static const char *
ext_copy(const char *s)
{
	if (s == NULL)
		return NULL;
	for (unsigned int i = 0; i < ext_nstr; i++)
		if (strcmp(ext_str[i], s) == 0)
			return ext_str[i];
	if (ext_nstr == RTE_DIM(ext_str) || strlen(s) >= sizeof(ext_str[0]))
		die("ext_copy: no room");
	strcpy(ext_str[ext_nstr], s);
	return ext_str[ext_nstr++];
}

/* Called by heapmod.so for each block it leaks. */
static void
note_ext(const char *file, const char *func, int line, const char *kind,
	 const char *type, int socket, void *p, size_t size)
{
	hl_note_at(ext_copy(file), ext_copy(func), line, ext_copy(kind),
		   ext_copy(type), NULL, socket, p, size);
}

typedef void heapmod_leak_fn(void (*note)(const char *, const char *, int,
					  const char *, const char *, int,
					  void *, size_t));

static int
mode_dlclose(const char *path)
{
	heapmod_leak_fn *fn;
	void *h;

	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, PROG ": dlopen %s: %s\n", path, dlerror());
		return 1;
	}
	fn = (heapmod_leak_fn *)dlsym(h, "heapmod_leak");
	if (fn == NULL)
		die("no heapmod_leak in the module");
	CALL(fn(note_ext));
	if (dlclose(h) != 0)
		die("dlclose");
	/* The test is only worth something if the module is really gone. */
	h = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	printf(PROG ": module unloaded=%d\n", h == NULL);
	if (h != NULL)
		dlclose(h);
	hl_print(NULL);
	return 0;
}

/* ---- mode signal --------------------------------------------------------- */

static HL_NOINLINE void
sig_leak_a(void)
{
	for (int i = 0; i < 3; i++) {
		void *p = AT(malloc(333));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 333);
	}
}

static HL_NOINLINE void
sig_leak_b(void)
{
	for (int i = 0; i < 2; i++) {
		void *p = AT(rte_malloc("hl_sig_b", 444, 0));
		hl_note(KIND_RTE, "hl_sig_b", NULL, SOCKET_ID_ANY, p, 444);
	}
}

static HL_NOINLINE void
sig_leak_c(void)
{
	void *p = AT(malloc(555));

	hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, 555);
}

/* Wait for @dir/go@k (the test's cue), at most 60 s. */
static void
wait_go(const char *dir, int k)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/go%d", dir, k);
	printf(PROG ": ready %d\n", k);
	fflush(stdout);
	for (int i = 0; i < 3000; i++) {
		if (access(path, F_OK) == 0)
			return;
		sleep_ms(20);
	}
	die("signal: no go file from the test within 60 s");
}

static int
mode_signal(const char *dir)
{
	hl_set = "sig_a";
	CALL(sig_leak_a());
	hl_print("sig_a");
	wait_go(dir, 1);
	hl_set = "sig_b";
	CALL(sig_leak_b());
	hl_print("sig_b");
	wait_go(dir, 2);
	hl_set = "sig_c";
	CALL(sig_leak_c());
	hl_print("sig_c");
	return 0;
}

/* ---- mode scoped --------------------------------------------------------- */

static HL_NOINLINE void *
scoped_leaks(size_t libc_size, int libc_n, size_t rte_size, int rte_n)
{
	void *p;

	for (int i = 0; i < libc_n; i++) {
		p = AT(malloc(libc_size));
		hl_note(KIND_LIBC, NULL, NULL, SOCKET_ID_ANY, p, libc_size);
	}
	for (int i = 0; i < rte_n; i++) {
		p = AT(rte_malloc("hl_scoped", rte_size, 0));
		hl_note(KIND_RTE, "hl_scoped", NULL, SOCKET_ID_ANY, p,
			rte_size);
	}
	/* One more, freed later in another phase: never reported. */
	p = malloc(libc_size + 1);
	touch(p);
	return p;
}

static int
mode_scoped(void)
{
	void *pre, *in;

	/* Each phase calls from its own line: three distinct stacks. */
	hl_set = "pre";
	pre = CALL(scoped_leaks(111, 2, 1111, 1));
	api_track("track1", 1);
	api_track("track1_again", 1);
	hl_set = "in";
	in = CALL(scoped_leaks(333, 3, 3333, 2));
	free(pre);    /* allocated out of scope, freed in scope */
	api_track("track0", 0);
	api_track("track0_again", 0);
	hl_set = "post";
	CALL(scoped_leaks(555, 4, 5555, 1));
	free(in);     /* allocated in scope, freed out of scope */
	hl_print(NULL);
	return 0;
}

/* ---- mode churn ---------------------------------------------------------- */

/* Depth varies the stack: many distinct stacks as well as many blocks. */
static HL_NOINLINE void *
churn_rec(unsigned int depth, size_t size)
{
	void *p;

	if (depth == 0) {
		p = malloc(size);
		touch(p);
		return p;
	}
	p = churn_rec(depth - 1, size);
	return p;
}

static int
mode_churn(unsigned long n)
{
	void **libc_p, **rte_p;
	unsigned long nr = n / 16;

	api_track("track_before", 1);
	libc_p = calloc(n, sizeof(*libc_p));
	rte_p = calloc(nr + 1, sizeof(*rte_p));
	if (libc_p == NULL || rte_p == NULL)
		die("calloc");
	for (unsigned long i = 0; i < n; i++)
		libc_p[i] = churn_rec(i % 24, 16 + i % 48);
	for (unsigned long i = 0; i < nr; i++) {
		rte_p[i] = rte_malloc(NULL, 64, 0);
		touch(rte_p[i]);
	}
	for (unsigned long i = 0; i < n; i++)
		free(libc_p[i]);
	for (unsigned long i = 0; i < nr; i++)
		rte_free(rte_p[i]);
	free(libc_p);
	free(rte_p);
	printf(PROG ": churn allocated=%lu rte=%lu\n", n, nr);
	api_track("track_after", 1);
	return 0;
}

/* ---- main ---------------------------------------------------------------- */

static unsigned long
num_arg(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || v < min || v > max)
		die("bad number argument");
	return v;
}

int
main(int argc, char **argv)
{
	const char *mode;
	int ret, rc;

	setvbuf(stdout, out_buf, _IOLBF, sizeof(out_buf));
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, PROG ": cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	mode = argc > 1 ? argv[1] : "leaks";
	printf(PROG ": mode %s\n", mode);
	fflush(stdout);

	if (strcmp(mode, "leaks") == 0 && argc <= 2) {
		rc = mode_leaks();
	} else if (strcmp(mode, "mt") == 0 && argc <= 4) {
		rc = mode_mt(argc > 2 ? num_arg(argv[2], 1000, 100000000) :
			     200000,
			     argc > 3 ? num_arg(argv[3], 0, 64) : 2);
	} else if (strcmp(mode, "snapdiff") == 0 && argc == 5) {
		hl_set = "sd";
		rc = mode_snapdiff(argv[2], argv[3], argv[4]);
	} else if (strcmp(mode, "dlclose") == 0 && argc == 3) {
		rc = mode_dlclose(argv[2]);
	} else if (strcmp(mode, "signal") == 0 && argc == 3) {
		rc = mode_signal(argv[2]);
	} else if (strcmp(mode, "scoped") == 0 && argc == 2) {
		rc = mode_scoped();
	} else if (strcmp(mode, "grow") == 0 && argc == 4) {
		rc = mode_grow(num_arg(argv[2], 1, 120), argv[3]);
	} else if (strcmp(mode, "churn") == 0 && argc == 3) {
		rc = mode_churn(num_arg(argv[2], 1, 100000000));
	} else {
		fprintf(stderr, "usage: " PROG " [EAL options] -- [leaks | "
			"mt [ITERS [PTHREADS]] | snapdiff AB BNOW DUMP | "
			"dlclose MODULE | signal DIR | scoped | churn N | grow SECS DUMP]\n");
		rc = 1;
	}
	rte_eal_cleanup();
	if (rc == 0)
		printf(PROG ": done\n");
	fflush(stdout);
	return rc;
}
