/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Heap interposers of libmpaudit_preload.so: the libc allocator and the
 * rte_malloc family with memzones. Each calls the next definition
 * (dlsym(RTLD_NEXT)) and records or checks the pointer in the heap table
 * (heap.c).
 *
 * Rules that keep the host safe:
 *  - Calls nested in an interposed call (strdup -> malloc, rte_zmalloc ->
 *    rte_malloc_socket, rte_memzone_free -> rte_free) are passed straight
 *    through (t_real): the outer call records the result once.
 *  - The tracker's own allocations (reports, symbolisation, its threads)
 *    are recorded as internal (t_internal): checked when freed, never
 *    reported, no stack.
 *  - dlsym() may allocate while the real functions are being looked up:
 *    those calls are served from a static arena whose blocks are never
 *    freed (free() recognises and ignores them).
 *  - A free the table cannot account for is reported and NOT passed on.
 *  - Every allocation is recorded from the first one in the process, so
 *    that a pointer missing from the table really was never allocated.
 *    Only allocations made while tracking is on carry a stack and are
 *    reported.
 */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memzone.h>

#include "mpaudit_stamp.h"

#include "core/guard.h"
#include "core/config.h"
#include "core/errors.h"
#include "heap/heap.h"
#include "heap/heap_int.h"
#include "interpose.h"
#include "heap/reach.h"
#include "heap/stack.h"
#include "heap/symbol.h"

#define IE __attribute__((tls_model("initial-exec")))

static __thread int t_real IE;       /* inside a real allocator call */
#define t_internal mpa_guard_depth
static __thread int t_booting IE;    /* looking up the real functions */
static __thread uint32_t t_tid IE;

/* Kinds recorded (bit per enum mpa_heap_kind); see MPAUDIT_HEAP. */
static unsigned int kinds;

/* The bootstrap arena: what dlsym() allocates while we look up malloc. */

#define BOOT_BYTES (64u << 10)
static char boot[BOOT_BYTES] __attribute__((aligned(64)));
static size_t boot_used;

static inline int
in_boot(const void *p)
{
	return (const char *)p >= boot && (const char *)p < boot + BOOT_BYTES;
}

/* Each block is preceded by its size, for realloc(). */
static void *
boot_alloc(size_t n, size_t align)
{
	size_t off, cur;

	if (align < 16)
		align = 16;
	do {
		cur = __atomic_load_n(&boot_used, __ATOMIC_RELAXED);
		off = (cur + sizeof(size_t) + align - 1) & ~(align - 1);
		if (off + n > BOOT_BYTES || n > BOOT_BYTES)
			return NULL;
	} while (!__atomic_compare_exchange_n(&boot_used, &cur, off + n, 0,
					      __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	memcpy(boot + off - sizeof(size_t), &n, sizeof(n));
	return boot + off;
}

static size_t
boot_size(const void *p)
{
	size_t n;

	memcpy(&n, (const char *)p - sizeof(size_t), sizeof(n));
	return n;
}

/* The next definitions. */

static struct {
	void *(*malloc)(size_t);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void (*free)(void *);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	char *(*strdup)(const char *);
	char *(*strndup)(const char *, size_t);
} libc;

static int boot_state;   /* 0 not started, 1 in progress, 2 done */

/*
 * Read MPAUDIT_* once, before anything is recorded. A bad value leaves the
 * tracker off quietly here: mpa_init() says why at rte_eal_init(), and a
 * program that never starts DPDK should print nothing.
 */
static void
heap_configure(void)
{
	extern char **environ;
	struct mpa_config cfg;

	if (environ == NULL ||
	    mpa_config_parse(&cfg, environ, NULL, 0) != 0 || cfg.heap == 0)
		return;
	kinds = cfg.heap;
	mpa_heap_configure(cfg.heap_depth, cfg.heap_max_mb, cfg.heap_manual);
	if (mpa_stack_setup(cfg.heap_depth, (const void *)heap_configure) != 0)
		return;
	mpa_heap_atfork();
	__atomic_store_n(&mpa_heap_state, MPA_HEAP_ON, __ATOMIC_RELEASE);
}

static void
heap_boot(void)
{
	int s = 0;

	if (t_booting)
		return; /* dlsym() allocating: the caller uses the arena */
	if (!__atomic_compare_exchange_n(&boot_state, &s, 1, 0,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		while (__atomic_load_n(&boot_state, __ATOMIC_ACQUIRE) != 2)
			__builtin_ia32_pause();
		return;
	}
	t_booting = 1;
#define NEXT(fn) libc.fn = (__typeof__(libc.fn))dlsym(RTLD_NEXT, #fn)
	NEXT(calloc);
	NEXT(realloc);
	NEXT(free);
	NEXT(posix_memalign);
	NEXT(aligned_alloc);
	NEXT(memalign);
	NEXT(valloc);
	NEXT(pvalloc);
	NEXT(reallocarray);
	NEXT(strdup);
	NEXT(strndup);
	NEXT(malloc);
#undef NEXT
	mpa_reach_main_thread();
	heap_configure();
	t_booting = 0;
	__atomic_store_n(&boot_state, 2, __ATOMIC_RELEASE);
}

/* 1 while the real functions are unknown or being looked up. */
static inline int
booting(void)
{
	if (__builtin_expect(__atomic_load_n(&boot_state, __ATOMIC_ACQUIRE) == 2, 1))
		return t_booting;
	heap_boot();
	return t_booting || libc.malloc == NULL;
}

static inline int
tracked(enum mpa_heap_kind kind)
{
	return __atomic_load_n(&mpa_heap_state, __ATOMIC_RELAXED) == MPA_HEAP_ON &&
	       (kinds & (1u << kind)) && !t_real;
}

static uint32_t
tid(void)
{
	if (t_tid == 0)
		t_tid = (uint32_t)syscall(SYS_gettid);
	return t_tid;
}

/*
 * Record an allocation. Not inlined: the stack is captured from here and
 * everything from here down to the application is this module's, so the
 * capture cache sees one call site.
 */
static __attribute__((noinline)) void
note(void *p, size_t size, enum mpa_heap_kind kind, uint16_t type, int socket,
     int memzone)
{
	uint32_t stack = MPA_STACK_NONE, time_ms = 0, id = 0;
	unsigned int lcore = 255, scope = 0, internal = 0;
	union mpa_heap_rec_words u;

	if (t_internal) {
		internal = 1;
	} else if (__atomic_load_n(&mpa_heap_scope, __ATOMIC_RELAXED)) {
		unsigned int lc = mpa_lcore_id();

		scope = 1;
		t_internal++; /* whatever the unwinder allocates is ours */
		stack = mpa_stack_capture();
		t_internal--;
		time_ms = mpa_heap_now();
		lcore = lc < 255 ? lc : 255;
		id = tid();
	}
	mpa_heap_rec_build(&u, (uintptr_t)p, size, kind, scope, internal,
			   memzone != 0, lcore, stack, time_ms, id, type,
			   (int16_t)socket);
	mpa_heap_insert_words(u.w[0], u.w[1], u.w[2], u.w[3]);
}

/* "function (file:line)" of a stack's frame 0, or of one address. */
static void
site_of_stack(uint32_t id, char *buf, size_t len)
{
	const struct mpa_stack *st = mpa_stack_get(id);

	buf[0] = '\0';
	if (st != NULL && st->depth > 0)
		mpa_symbol_frame(&st->frames[0], buf, len);
}

static void
site_of_pc(uintptr_t pc, char *buf, size_t len)
{
	site_of_stack(mpa_stack_intern_pcs(&pc, 1), buf, len);
}

/* A free the table cannot account for: report it; the caller drops it. */
static __attribute__((noinline)) void
bad_free(uintptr_t p, enum mpa_heap_kind kind, uintptr_t pc,
	 const struct mpa_heap_miss *m)
{
	char site[160], first[160];
	enum mpa_error_type type;

	t_internal++;
	site_of_pc(pc, site, sizeof(site));
	first[0] = '\0';
	switch (m->what) {
	case MPA_MISS_DOUBLE:
		type = MPA_ERR_DOUBLE_FREE;
		site_of_pc(m->first_pc, first, sizeof(first));
		break;
	case MPA_MISS_FOREIGN:
		type = MPA_ERR_FOREIGN_FREE;
		site_of_stack(m->found.stack, first, sizeof(first));
		break;
	default:
		type = MPA_ERR_STRAY_FREE;
		break;
	}
	mpa_error_report(type, mpa_heap_kind_name(kind), p,
			 site[0] ? site : NULL, first[0] ? first : NULL);
	t_internal--;
}

/* @return 1 if @p p may go to the real free. */
static inline int
check_free(void *p, enum mpa_heap_kind kind, uintptr_t pc)
{
	struct mpa_heap_rec r;
	struct mpa_heap_miss m;

	if (mpa_heap_take((uintptr_t)p, kind, pc, 1, &r, &m) == 0)
		return 1;
	bad_free((uintptr_t)p, kind, pc, &m);
	return 0;
}

#define CALLER() ((uintptr_t)__builtin_return_address(0))

/* libc */

void *
malloc(size_t n)
{
	void *p;

	if (__builtin_expect(booting(), 0))
		return boot_alloc(n, 16);
	p = libc.malloc(n);
	if (p != NULL && tracked(MPA_HEAP_LIBC))
		note(p, n, MPA_HEAP_LIBC, 0, -1, 0);
	return p;
}

void *
calloc(size_t nmemb, size_t size)
{
	size_t n;
	void *p;

	if (__builtin_mul_overflow(nmemb, size, &n))
		n = SIZE_MAX;
	if (__builtin_expect(booting(), 0))
		return n == SIZE_MAX ? NULL : boot_alloc(n, 16); /* zeroed */
	p = libc.calloc(nmemb, size);
	if (p != NULL && tracked(MPA_HEAP_LIBC))
		note(p, n, MPA_HEAP_LIBC, 0, -1, 0);
	return p;
}

void
free(void *p)
{
	if (p == NULL || in_boot(p))
		return;
	if (__builtin_expect(booting(), 0))
		return; /* not ours, and nothing yet to free it with: keep it */
	if (tracked(MPA_HEAP_LIBC) && !check_free(p, MPA_HEAP_LIBC, CALLER()))
		return;
	libc.free(p);
}

/*
 * The old block's record is taken before the real call, so that a
 * concurrent allocation getting the old address back never meets it; it
 * goes back if the call fails.
 */
void *
realloc(void *p, size_t n)
{
	struct mpa_heap_rec old;
	struct mpa_heap_miss m;
	void *q;

	if (p != NULL && in_boot(p)) {
		size_t have = boot_size(p);

		q = malloc(n);
		if (q != NULL)
			memcpy(q, p, have < n ? have : n);
		return q;
	}
	if (__builtin_expect(booting(), 0))
		return p == NULL ? boot_alloc(n, 16) : NULL;
	if (!tracked(MPA_HEAP_LIBC))
		return libc.realloc(p, n);
	if (p != NULL &&
	    mpa_heap_take((uintptr_t)p, MPA_HEAP_LIBC, CALLER(), 0, &old, &m) != 0) {
		bad_free((uintptr_t)p, MPA_HEAP_LIBC, CALLER(), &m);
		errno = ENOMEM;
		return NULL;
	}
	q = libc.realloc(p, n);
	if (q == NULL) {
		if (p != NULL && n != 0)
			mpa_heap_insert(&old);  /* failed: p is still live */
		else if (p != NULL)
			mpa_heap_forget_freed((uintptr_t)p, MPA_HEAP_LIBC,
					      CALLER(), old.stack);
		return NULL;
	}
	if (p != NULL && q != p)
		mpa_heap_forget_freed((uintptr_t)p, MPA_HEAP_LIBC, CALLER(),
				      old.stack);
	note(q, n, MPA_HEAP_LIBC, 0, -1, 0);
	return q;
}

void *
reallocarray(void *p, size_t nmemb, size_t size)
{
	size_t n;

	if (__builtin_mul_overflow(nmemb, size, &n)) {
		errno = ENOMEM;
		return NULL;
	}
	return realloc(p, n);
}

int
posix_memalign(void **out, size_t align, size_t n)
{
	int rc;

	if (__builtin_expect(booting(), 0)) {
		*out = boot_alloc(n, align);
		return *out != NULL ? 0 : ENOMEM;
	}
	rc = libc.posix_memalign(out, align, n);
	if (rc == 0 && tracked(MPA_HEAP_LIBC))
		note(*out, n, MPA_HEAP_LIBC, 0, -1, 0);
	return rc;
}

#define ALIGNED_WRAPPER(fn, proto, call, size) \
	void *fn proto \
	{ \
		void *p; \
		if (__builtin_expect(booting(), 0)) \
			return boot_alloc(size, 4096); \
		p = libc.fn call; \
		if (p != NULL && tracked(MPA_HEAP_LIBC)) \
			note(p, size, MPA_HEAP_LIBC, 0, -1, 0); \
		return p; \
	}

ALIGNED_WRAPPER(aligned_alloc, (size_t align, size_t n), (align, n), n)
ALIGNED_WRAPPER(memalign, (size_t align, size_t n), (align, n), n)
ALIGNED_WRAPPER(valloc, (size_t n), (n), n)
ALIGNED_WRAPPER(pvalloc, (size_t n), (n), n)

/* strdup and strndup allocate through malloc: record them as theirs. */
char *
strdup(const char *s)
{
	char *p;

	if (__builtin_expect(booting(), 0) || !tracked(MPA_HEAP_LIBC)) {
		size_t n = strlen(s) + 1;

		p = malloc(n);
		if (p != NULL)
			memcpy(p, s, n);
		return p;
	}
	t_real++;
	p = libc.strdup(s);
	t_real--;
	if (p != NULL)
		note(p, strlen(p) + 1, MPA_HEAP_LIBC, 0, -1, 0);
	return p;
}

char *
strndup(const char *s, size_t max)
{
	char *p;

	if (__builtin_expect(booting(), 0) || !tracked(MPA_HEAP_LIBC)) {
		size_t n = strnlen(s, max);

		p = malloc(n + 1);
		if (p != NULL) {
			memcpy(p, s, n);
			p[n] = '\0';
		}
		return p;
	}
	t_real++;
	p = libc.strndup(s, max);
	t_real--;
	if (p != NULL)
		note(p, strlen(p) + 1, MPA_HEAP_LIBC, 0, -1, 0);
	return p;
}

/* rte_malloc family and memzones. */

/*
 * One wrapper per allocating entry point. The type string is nearly
 * always a literal; the socket is the one asked for (SOCKET_ID_ANY = -1).
 */
#define RTE_ALLOC_WRAPPER(fn, proto, call, type, size, socket) \
	void *fn proto \
	{ \
		void *p; \
		if (!tracked(MPA_HEAP_RTE)) \
			return MPA_NEXT(fn) call; \
		t_real++; \
		p = MPA_NEXT(fn) call; \
		t_real--; \
		if (p != NULL) \
			note(p, size, MPA_HEAP_RTE, mpa_heap_intern(type, 1), \
			     socket, 0); \
		return p; \
	}

RTE_ALLOC_WRAPPER(rte_malloc, (const char *type, size_t size, unsigned int align),
		  (type, size, align), type, size, SOCKET_ID_ANY)
RTE_ALLOC_WRAPPER(rte_zmalloc, (const char *type, size_t size, unsigned int align),
		  (type, size, align), type, size, SOCKET_ID_ANY)
RTE_ALLOC_WRAPPER(rte_calloc, (const char *type, size_t num, size_t size, unsigned int align),
		  (type, num, size, align), type, num * size, SOCKET_ID_ANY)
RTE_ALLOC_WRAPPER(rte_malloc_socket, (const char *type, size_t size, unsigned int align, int socket),
		  (type, size, align, socket), type, size, socket)
RTE_ALLOC_WRAPPER(rte_zmalloc_socket, (const char *type, size_t size, unsigned int align, int socket),
		  (type, size, align, socket), type, size, socket)
RTE_ALLOC_WRAPPER(rte_calloc_socket, (const char *type, size_t num, size_t size, unsigned int align, int socket),
		  (type, num, size, align, socket), type, num * size, socket)

/* After the real rte_realloc: the record goes back, or moves to the new block. */
static void *
rte_realloc_done(void *p, size_t size, uintptr_t pc, void *q_or_null,
		   const struct mpa_heap_rec *old, int had_old)
{
	if (q_or_null == NULL) {
		if (had_old)
			mpa_heap_insert(old);  /* failed: p is still live */
		return NULL;
	}
	if (had_old && q_or_null != p)
		mpa_heap_forget_freed((uintptr_t)p, MPA_HEAP_RTE, pc, old->stack);
	note(q_or_null, size, MPA_HEAP_RTE, had_old ? old->type : 0,
	     had_old ? old->socket : SOCKET_ID_ANY, 0);
	return q_or_null;
}

/* The old block's record is taken first, as for realloc(). */
#define RTE_REALLOC_WRAPPER(fn, proto, call) \
	void *fn proto \
	{ \
		struct mpa_heap_rec old; \
		struct mpa_heap_miss m; \
		void *q; \
		if (!tracked(MPA_HEAP_RTE)) \
			return MPA_NEXT(fn) call; \
		if (p != NULL && mpa_heap_take((uintptr_t)p, MPA_HEAP_RTE, \
					       CALLER(), 0, &old, &m) != 0) { \
			bad_free((uintptr_t)p, MPA_HEAP_RTE, CALLER(), &m); \
			return NULL; \
		} \
		t_real++; \
		q = MPA_NEXT(fn) call; \
		t_real--; \
		return rte_realloc_done(p, size, CALLER(), q, &old, p != NULL); \
	}

RTE_REALLOC_WRAPPER(rte_realloc, (void *p, size_t size, unsigned int align),
		    (p, size, align))
RTE_REALLOC_WRAPPER(rte_realloc_socket,
		    (void *p, size_t size, unsigned int align, int socket),
		    (p, size, align, socket))

void
rte_free(void *p)
{
	if (p != NULL && tracked(MPA_HEAP_RTE) &&
	    !check_free(p, MPA_HEAP_RTE, CALLER()))
		return;
	MPA_NEXT(rte_free)(p);
}

#define MZ_WRAPPER(fn, proto, call) \
	const struct rte_memzone *fn proto \
	{ \
		const struct rte_memzone *mz; \
		if (!tracked(MPA_HEAP_RTE)) \
			return MPA_NEXT(fn) call; \
		t_real++; \
		mz = MPA_NEXT(fn) call; \
		t_real--; \
		if (mz != NULL) \
			note(mz->addr, mz->len, MPA_HEAP_RTE, \
			     mpa_heap_intern(mz->name, 0), socket_id, 1); \
		return mz; \
	}

MZ_WRAPPER(rte_memzone_reserve,
	   (const char *name, size_t len, int socket_id, unsigned int flags),
	   (name, len, socket_id, flags))
MZ_WRAPPER(rte_memzone_reserve_aligned,
	   (const char *name, size_t len, int socket_id, unsigned int flags,
	    unsigned int align),
	   (name, len, socket_id, flags, align))
MZ_WRAPPER(rte_memzone_reserve_bounded,
	   (const char *name, size_t len, int socket_id, unsigned int flags,
	    unsigned int align, unsigned int bound),
	   (name, len, socket_id, flags, align, bound))

int
rte_memzone_free(const struct rte_memzone *mz)
{
	struct mpa_heap_rec old;
	int had, rc;

	if (mz == NULL || !tracked(MPA_HEAP_RTE))
		return MPA_NEXT(rte_memzone_free)(mz);
	had = mpa_heap_take_memzone((uintptr_t)mz->addr, &old) == 0;
	t_real++;
	rc = MPA_NEXT(rte_memzone_free)(mz);  /* calls rte_free() inside */
	t_real--;
	if (rc != 0 && had)
		mpa_heap_insert(&old);
	return rc;
}

/*
 * Threads: the reachability scan (reach.c) reads every thread's stack,
 * so each new thread registers its own before running the application's
 * start routine, and leaves however it ends (return, pthread_exit(),
 * cancellation).
 */
struct thread_start {
	void *(*fn)(void *);
	void *arg;
};

static void
thread_leave(void *slot)
{
	mpa_reach_thread_leave((int)(intptr_t)slot);
}

static void *
thread_trampoline(void *p)
{
	struct thread_start ts = *(struct thread_start *)p;
	intptr_t slot;
	void *ret;

	t_internal++;
	free(p);
	t_internal--;
	slot = mpa_reach_thread_enter();
	pthread_cleanup_push(thread_leave, (void *)slot);
	ret = ts.fn(ts.arg);
	pthread_cleanup_pop(1);
	return ret;
}

int
pthread_create(pthread_t *thread, const pthread_attr_t *attr,
	       void *(*fn)(void *), void *arg)
{
	struct thread_start *ts;
	int rc;

	t_internal++;
	ts = malloc(sizeof(*ts));
	t_internal--;
	if (ts == NULL)
		return MPA_NEXT(pthread_create)(thread, attr, fn, arg);
	ts->fn = fn;
	ts->arg = arg;
	rc = MPA_NEXT(pthread_create)(thread, attr, thread_trampoline, ts);
	if (rc != 0) {
		t_internal++;
		free(ts);
		t_internal--;
	}
	return rc;
}
