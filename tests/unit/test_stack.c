/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/heap/stack.c and audit/heap/symbol.c. The ground truth is the
 * source itself: each capture stores __LINE__ on the line of its call, and
 * the symbolised frame must name that function and line exactly. This file
 * is compiled with -g and without sibling calls, so every function below
 * keeps its frame and its call's line.
 *
 * The cache tests count the calling thread's hits and misses
 * (mpa_stack_thread_stats()) to know which path answered.
 *
 * STACKMOD and STACKMOD_NODBG (set by meson) are the paths of stackmod.c
 * built with and without debug info.
 */

#define _GNU_SOURCE

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "heap/stack.h"
#include "heap/symbol.h"

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

typedef uint32_t (*cap_fn)(void);
typedef uint32_t (*stackmod_fn)(cap_fn cb, int *line);

static volatile int sink;

/*
 * Loops whose body must stay one call site: a trip count the compiler
 * cannot see (no complete unrolling), and no test of the index inside
 * (no peeling of the first round).
 */
static volatile int vol_one = 1;

static int
rounds(int n)
{
	return n * vol_one;
}

/* Lines of the calls, stored on the line of each call. */
static int line_capture_here, line_path_a, line_path_b;
static int line_twin_a, line_twin_b, line_mid;
static uintptr_t probe_addr;

/* Non-static with prototypes: static functions may be renamed (.isra). */
uint32_t capture_here(void);
uint32_t path_a(void);
uint32_t path_b(void);
uint32_t helper_sp(void);
uint32_t twin_a(cap_fn f);
uint32_t twin_b(cap_fn f);
uint32_t via(uint32_t (*twin)(cap_fn));
uint32_t mid(void);
uint32_t outer_a(void);
uint32_t outer_b(void);
uint32_t via_outer(uint32_t (*outer)(void));
uint32_t recurse(int n);
uint32_t skip_caller(stackmod_fn fn, int *line, int *mod_line);

NOINLINE uint32_t
capture_here(void)
{
	uint32_t id = mpa_stack_capture(); line_capture_here = __LINE__;

	sink++;
	return id;
}

NOINLINE uint32_t
path_a(void)
{
	uint32_t id = capture_here(); line_path_a = __LINE__;

	sink++;
	return id;
}

NOINLINE uint32_t
path_b(void)
{
	uint32_t id = capture_here(); line_path_b = __LINE__;

	sink += 2;
	return id;
}

/* Records where its frame is, to prove both twins reach it at one SP. */
NOINLINE uint32_t
helper_sp(void)
{
	volatile char probe = 0;
	uint32_t id;

	probe_addr = (uintptr_t)&probe;
	id = mpa_stack_capture();
	sink += probe;
	return id;
}

/* Same frame size, different code (so no identical-code folding). */
NOINLINE uint32_t
twin_a(cap_fn f)
{
	uint32_t id = f(); line_twin_a = __LINE__;

	sink += 1;
	return id;
}

NOINLINE uint32_t
twin_b(cap_fn f)
{
	uint32_t id = f(); line_twin_b = __LINE__;

	sink += 3;
	return id;
}

NOINLINE uint32_t
via(uint32_t (*twin)(cap_fn))
{
	uint32_t id = twin(helper_sp);

	sink++;
	return id;
}

/* Deeper variant: the paths differ two frames above the capture. */
NOINLINE uint32_t
mid(void)
{
	uint32_t id = helper_sp(); line_mid = __LINE__;

	sink++;
	return id;
}

NOINLINE uint32_t
outer_a(void)
{
	uint32_t id = mid();

	sink += 1;
	return id;
}

NOINLINE uint32_t
outer_b(void)
{
	uint32_t id = mid();

	sink += 5;
	return id;
}

NOINLINE uint32_t
via_outer(uint32_t (*outer)(void))
{
	uint32_t id = outer();

	sink++;
	return id;
}

NOINLINE uint32_t
recurse(int n)
{
	uint32_t id = n == 0 ? capture_here() : recurse(n - 1);

	sink++;
	return id;
}

/*
 * Frames whose CFA comes from the frame pointer: vla_frame() has a
 * variable-length array, so its return address is found through %rbp, not
 * at a fixed distance from the stack pointer. fp_x() and fp_y() reserve
 * different amounts before calling it and vla_frame() makes up the
 * difference, so both reach the capture with the same stack pointer and
 * return address, while vla_frame()'s frame (and the slot of its return
 * address) sits elsewhere. The alloca'd space is left unwritten: what the
 * other path stored there stays, a stale copy of its return address right
 * where the first unwind found it.
 */
uint32_t vla_frame(int n);
uint32_t fp_x(void);
uint32_t fp_y(void);
uint32_t via_fp(uint32_t (*f)(void));
static uintptr_t vla_fp;
static volatile uintptr_t keep;

NOINLINE uint32_t
vla_frame(int n)
{
	volatile char vla[n];
	uint32_t id;

	vla[0] = 0;
	vla_fp = (uintptr_t)__builtin_frame_address(0);
	id = helper_sp();
	sink += vla[0];
	return id;
}

NOINLINE uint32_t
fp_x(void)
{
	char *p = __builtin_alloca(64);
	uint32_t id;

	keep = (uintptr_t)p;
	id = vla_frame(256);
	sink += 1;
	return id;
}

NOINLINE uint32_t
fp_y(void)
{
	char *p = __builtin_alloca(256);
	uint32_t id;

	keep = (uintptr_t)p;
	id = vla_frame(64);
	sink += 7;
	return id;
}

NOINLINE uint32_t
via_fp(uint32_t (*f)(void))
{
	uint32_t id = f();

	sink++;
	return id;
}

static void
stats(uint64_t *hits, uint64_t *misses)
{
	mpa_stack_thread_stats(hits, misses);
}

static const struct mpa_stack *
get(uint32_t id)
{
	const struct mpa_stack *s = mpa_stack_get(id);

	assert_non_null(s);
	assert_int_equal(s->id, id);
	return s;
}

static void
expect_frame(uint32_t id, unsigned int i, const char *want)
{
	const struct mpa_stack *s = get(id);
	char buf[512];
	int n;

	assert_true(i < s->depth);
	n = mpa_symbol_frame(&s->frames[i], buf, sizeof(buf));
	assert_string_equal(buf, want);
	assert_int_equal(n, (int)strlen(want));
}

static void
expect_line_frame(uint32_t id, unsigned int i, const char *fn, int line)
{
	char want[256];

	snprintf(want, sizeof(want), "%s (test_stack.c:%d)", fn, line);
	expect_frame(id, i, want);
}

static int
setup_default(void **state)
{
	(void)state;
	return mpa_stack_setup(MPA_STACK_DEFAULT_DEPTH, NULL);
}

static void
test_setup_bad_depth(void **state)
{
	(void)state;
	assert_int_equal(mpa_stack_setup(0, NULL), -EINVAL);
	assert_int_equal(mpa_stack_setup(MPA_STACK_MAX_DEPTH + 1, NULL),
			 -EINVAL);
	assert_int_equal(mpa_stack_setup(1, NULL), 0);
	assert_int_equal(mpa_stack_setup(MPA_STACK_MAX_DEPTH, NULL), 0);
}

static void
test_two_paths(void **state)
{
	uint64_t hits[101], misses[101], h0, m0, h1, m1;
	uint32_t xa[101], xb[101], a, b;
	int n = rounds(101);

	(void)state;
	for (int i = 0; i < n; i++) {
		xa[i] = path_a();
		xb[i] = path_b();
		stats(&hits[i], &misses[i]);
	}
	a = xa[0];
	b = xb[0];
	for (int i = 1; i < 101; i++) {
		assert_int_equal(xa[i], a);
		assert_int_equal(xb[i], b);
	}
	h0 = hits[0];
	m0 = misses[0];
	h1 = hits[100];
	m1 = misses[100];
	assert_int_not_equal(a, MPA_STACK_NONE);
	assert_int_not_equal(b, MPA_STACK_NONE);
	assert_int_not_equal(a, b);
	assert_int_equal(h1 - h0, 200);   /* all from the cache */
	assert_int_equal(m1 - m0, 0);

	expect_line_frame(a, 0, "capture_here", line_capture_here);
	expect_line_frame(b, 0, "capture_here", line_capture_here);
	expect_line_frame(a, 1, "path_a", line_path_a);
	expect_line_frame(b, 1, "path_b", line_path_b);
	/* frame 0 is the call site: same pc on both paths */
	assert_true(get(a)->frames[0].pc == get(b)->frames[0].pc);
}

/*
 * Same stack pointer and same return address at the capture point, so the
 * same cache key: only the verified slots tell the paths apart.
 */
static void
test_same_key_twins(void **state)
{
	uint32_t ids[8];
	uintptr_t probes[8];
	uint64_t h0, m0, h1, m1;

	(void)state;
	stats(&h0, &m0);
	for (int i = 0; i < rounds(8); i++) {
		ids[i] = via(i & 1 ? twin_b : twin_a);
		probes[i] = probe_addr;
	}
	stats(&h1, &m1);
	for (int i = 1; i < 8; i++)
		assert_true(probes[i] == probes[0]);   /* the premise */
	assert_int_not_equal(ids[0], MPA_STACK_NONE);
	assert_int_not_equal(ids[0], ids[1]);
	for (int i = 2; i < 8; i++)
		assert_int_equal(ids[i], ids[i & 1]);
	assert_int_equal(m1 - m0, 2);   /* one unwind per path */
	assert_int_equal(h1 - h0, 6);
	assert_true(get(ids[0])->frames[0].pc == get(ids[1])->frames[0].pc);
	expect_line_frame(ids[0], 1, "twin_a", line_twin_a);
	expect_line_frame(ids[1], 1, "twin_b", line_twin_b);
}

/*
 * Runs of one path, then the other, then back: after the first capture of
 * each path every capture is answered from the cache (the last hit's
 * entry is tried first, the set's other ways after it), and never with
 * the other path's stack.
 */
static void
test_same_key_runs(void **state)
{
	static const int path[12] = { 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1 };
	uint32_t ids[12];
	uint64_t h0, m0, h1, m1;

	(void)state;
	stats(&h0, &m0);
	for (int i = 0; i < rounds(12); i++)
		ids[i] = via(path[i] ? twin_b : twin_a);
	stats(&h1, &m1);
	assert_int_not_equal(ids[0], MPA_STACK_NONE);
	assert_int_not_equal(ids[0], ids[3]);
	for (int i = 0; i < 12; i++)
		assert_int_equal(ids[i], ids[path[i] ? 3 : 0]);
	assert_int_equal(m1 - m0, 2);   /* one unwind per path */
	assert_int_equal(h1 - h0, 10);
	expect_line_frame(ids[0], 1, "twin_a", line_twin_a);
	expect_line_frame(ids[3], 1, "twin_b", line_twin_b);
}

/* As above, with the difference two frames above the capture. */
static void
test_same_key_deep(void **state)
{
	uint32_t ids[6];
	uintptr_t probes[6];

	(void)state;
	for (int i = 0; i < rounds(6); i++) {
		ids[i] = via_outer(i & 1 ? outer_b : outer_a);
		probes[i] = probe_addr;
	}
	for (int i = 1; i < 6; i++)
		assert_true(probes[i] == probes[0]);
	assert_int_not_equal(ids[0], ids[1]);
	for (int i = 2; i < 6; i++)
		assert_int_equal(ids[i], ids[i & 1]);
	expect_line_frame(ids[0], 1, "mid", line_mid);
	expect_line_frame(ids[1], 1, "mid", line_mid);
	assert_true(get(ids[0])->frames[2].pc != get(ids[1])->frames[2].pc);

	/* Kept to two frames, the paths are the same stack. */
	assert_int_equal(mpa_stack_setup(2, NULL), 0);
	assert_int_equal(via_outer(outer_a), via_outer(outer_b));
	assert_int_equal(get(via_outer(outer_a))->depth, 2);
}

static void
test_same_key_frame_pointer(void **state)
{
	uint32_t ids[6];
	uintptr_t probes[6], fps[6];

	(void)state;
	for (int i = 0; i < rounds(6); i++) {
		ids[i] = via_fp(i & 1 ? fp_y : fp_x);
		probes[i] = probe_addr;
		fps[i] = vla_fp;
	}
	for (int i = 1; i < 6; i++)
		assert_true(probes[i] == probes[0]);   /* same key ... */
	assert_true(fps[0] != fps[1]);             /* ... other frames */
	assert_int_not_equal(ids[0], ids[1]);
	for (int i = 2; i < 6; i++)
		assert_int_equal(ids[i], ids[i & 1]);
	assert_true(get(ids[0])->frames[2].pc != get(ids[1])->frames[2].pc);
}

static void
test_depth(void **state)
{
	const struct mpa_stack *s4, *s64, *s1;
	uint32_t id;

	(void)state;
	assert_int_equal(mpa_stack_setup(4, NULL), 0);
	s4 = get(recurse(80));
	assert_int_equal(s4->depth, 4);
	assert_int_equal(mpa_stack_setup(MPA_STACK_MAX_DEPTH, NULL), 0);
	s64 = get(recurse(80));
	assert_int_equal(s64->depth, MPA_STACK_MAX_DEPTH);
	for (unsigned int i = 0; i < 4; i++)
		assert_true(s4->frames[i].pc == s64->frames[i].pc);
	/* 64 frames are all recursion: the same return address from 2 on */
	for (unsigned int i = 3; i < MPA_STACK_MAX_DEPTH; i++)
		assert_true(s64->frames[i].pc == s64->frames[2].pc);
	assert_int_equal(recurse(80), s64->id);   /* deep entry is cached */
	assert_int_equal(mpa_stack_setup(1, NULL), 0);
	id = recurse(3);
	s1 = get(id);
	assert_int_equal(s1->depth, 1);
	expect_line_frame(id, 0, "capture_here", line_capture_here);
	assert_int_equal(mpa_stack_setup(MPA_STACK_DEFAULT_DEPTH, NULL), 0);
	assert_int_equal(get(recurse(40))->depth, MPA_STACK_DEFAULT_DEPTH);
}

struct main_ctx {
	uintptr_t bias;
	int found;
};

static int
main_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct main_ctx *c = arg;

	(void)size;
	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0') {
		c->bias = info->dlpi_addr;
		c->found = 1;
		return 1;
	}
	return 0;
}

static void
test_intern_pcs(void **state)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	struct main_ctx mc = { 0 };
	uintptr_t pcs[3], rev[3], many[70];
	const struct mpa_stack *s;
	const struct mpa_module *m;
	uint32_t before = mpa_stack_count(), id, id2;
	char want[PATH_MAX + 32];

	(void)state;
	assert_true(n > 0);
	exe[n] = '\0';
	dl_iterate_phdr(main_cb, &mc);
	assert_true(mc.found);

	pcs[0] = (uintptr_t)path_a + 5;
	pcs[1] = mc.bias + 0x10;          /* the ELF header: no symbol */
	pcs[2] = 0x10;                    /* in no module */
	id = mpa_stack_intern_pcs(pcs, 3);
	assert_int_not_equal(id, MPA_STACK_NONE);
	assert_int_equal(mpa_stack_intern_pcs(pcs, 3), id);
	rev[0] = pcs[2];
	rev[1] = pcs[1];
	rev[2] = pcs[0];
	id2 = mpa_stack_intern_pcs(rev, 3);
	assert_int_not_equal(id2, id);
	assert_int_equal(mpa_stack_count(), before + 2);

	s = get(id);
	assert_int_equal(s->depth, 3);
	for (int i = 0; i < 3; i++)
		assert_true(s->frames[i].pc == pcs[i]);
	m = mpa_module_get(s->frames[0].module);
	assert_non_null(m);
	assert_string_equal(m->path, exe);
	assert_true(m->bias == mc.bias);
	assert_true(s->frames[0].offset == pcs[0] - mc.bias);
	assert_int_equal(s->frames[1].module, s->frames[0].module);
	assert_true(s->frames[1].offset == 0x10);
	assert_int_equal(s->frames[2].module, UINT32_MAX);
	assert_null(mpa_module_get(UINT32_MAX));

	/* The header has no symbol and no line; no module at all: the pc. */
	snprintf(want, sizeof(want), "%s+0x10", strrchr(exe, '/') + 1);
	expect_frame(id, 1, want);
	expect_frame(id, 2, "0x10");

	/* Longer than the deepest stack: kept to MPA_STACK_MAX_DEPTH. */
	for (int i = 0; i < 70; i++)
		many[i] = pcs[0] + (uintptr_t)i;
	s = get(mpa_stack_intern_pcs(many, 70));
	assert_int_equal(s->depth, MPA_STACK_MAX_DEPTH);
	assert_true(s->frames[MPA_STACK_MAX_DEPTH - 1].pc ==
		    many[MPA_STACK_MAX_DEPTH - 1]);
	assert_int_equal(mpa_stack_intern_pcs(many, 0), MPA_STACK_NONE);
	assert_int_equal(mpa_stack_intern_pcs(NULL, 3), MPA_STACK_NONE);
	assert_null(mpa_stack_get(MPA_STACK_NONE));
	assert_null(mpa_stack_get(mpa_stack_count() + 1));
	assert_int_equal(mpa_stack_full(), 0);
}

static void
test_symbol_truncate(void **state)
{
	char full[256], buf[8];
	uint32_t id;
	int n;

	(void)state;
	id = path_a();
	n = mpa_symbol_frame(&get(id)->frames[0], full, sizeof(full));
	assert_true(n > 8);
	n = mpa_symbol_frame(&get(id)->frames[0], buf, sizeof(buf));
	assert_int_equal(n, 7);
	assert_int_equal(strlen(buf), 7);
	assert_memory_equal(buf, full, 7);
	/* Reopened after a reset. */
	mpa_symbol_reset();
	expect_line_frame(id, 0, "capture_here", line_capture_here);
}

static const char *
mod_path(const char *var)
{
	const char *p = getenv(var);

	if (p == NULL)
		fail_msg("%s is not set (run through meson test)", var);
	return p;
}

/*
 * Capture inside a module, unload it, then symbolise: the frame resolves
 * from the path and bias recorded at capture time.
 */
static void
capture_in_module(const char *path, uint32_t *id, int *line)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	stackmod_fn fn;
	const struct mpa_module *m;
	const struct mpa_stack *s;

	assert_non_null(h);
	fn = (stackmod_fn)(uintptr_t)dlsym(h, "stackmod_capture");
	assert_non_null(fn);
	*id = fn(mpa_stack_capture, line);
	assert_int_not_equal(*id, MPA_STACK_NONE);
	s = get(*id);
	m = mpa_module_get(s->frames[0].module);
	assert_non_null(m);
	assert_string_equal(m->path, path);
	assert_true(s->frames[0].offset == s->frames[0].pc - m->bias);
	assert_int_equal(dlclose(h), 0);
	assert_null(dlopen(path, RTLD_NOW | RTLD_NOLOAD));   /* really gone */
}

static void
test_dlclose_lines(void **state)
{
	uint32_t id;
	int line;
	char want[128];

	(void)state;
	capture_in_module(mod_path("STACKMOD"), &id, &line);
	snprintf(want, sizeof(want), "stackmod_capture (stackmod.c:%d)", line);
	mpa_symbol_reset();
	expect_frame(id, 0, want);
}

static void
test_dlclose_no_debuginfo(void **state)
{
	const char *path = mod_path("STACKMOD_NODBG");
	uint32_t id;
	int line;
	char want[256];

	(void)state;
	capture_in_module(path, &id, &line);
	snprintf(want, sizeof(want), "stackmod_capture (%s+0x%" PRIxPTR ")",
		 strrchr(path, '/') + 1, get(id)->frames[0].offset);
	expect_frame(id, 0, want);
}

/* Calls into the module, which calls the capture: the module's frames are
 * the tracker's own and must be skipped. */
NOINLINE uint32_t
skip_caller(stackmod_fn fn, int *line, int *mod_line)
{
	uint32_t id = fn(mpa_stack_capture, mod_line); *line = __LINE__;

	sink++;
	return id;
}

static void
test_skip_self(void **state)
{
	void *h = dlopen(mod_path("STACKMOD"), RTLD_NOW | RTLD_LOCAL);
	stackmod_fn fn;
	uint32_t id, ids[3];
	int line, mod_line;

	(void)state;
	assert_non_null(h);
	fn = (stackmod_fn)(uintptr_t)dlsym(h, "stackmod_capture");
	assert_non_null(fn);
	assert_int_equal(mpa_stack_setup(MPA_STACK_DEFAULT_DEPTH,
					 (const void *)(uintptr_t)fn), 0);
	for (int i = 0; i < rounds(3); i++)
		ids[i] = skip_caller(fn, &line, &mod_line);
	id = ids[0];
	assert_int_equal(ids[1], id);
	assert_int_equal(ids[2], id);
	expect_line_frame(id, 0, "skip_caller", line);

	/* Without a self, the module's frame is frame 0 again. */
	assert_int_equal(mpa_stack_setup(MPA_STACK_DEFAULT_DEPTH, NULL), 0);
	id = skip_caller(fn, &line, &mod_line);
	expect_line_frame(id, 1, "skip_caller", line);
	dlclose(h);
}

#define THREADS 4
#define ROUNDS 500

struct thr {
	pthread_t t;
	uint32_t a, b;
	uint32_t xa[ROUNDS], xb[ROUNDS];
	int ok;
	uint64_t hits;
};

static pthread_barrier_t barrier;

static void *
thr_main(void *arg)
{
	struct thr *t = arg;

	t->ok = 1;
	pthread_barrier_wait(&barrier);
	/* All threads intern the same two new stacks at once. */
	for (int i = 0; i < rounds(ROUNDS); i++) {
		t->xa[i] = path_a();
		t->xb[i] = path_b();
	}
	t->a = t->xa[0];
	t->b = t->xb[0];
	for (int i = 1; i < ROUNDS; i++)
		if (t->xa[i] != t->a || t->xb[i] != t->b)
			t->ok = 0;
	mpa_stack_thread_stats(&t->hits, NULL);
	return NULL;
}

static void
test_threads(void **state)
{
	struct thr t[THREADS];
	uint32_t before = mpa_stack_count();

	(void)state;
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&t[i].t, NULL, thr_main, &t[i]),
				 0);
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(t[i].t, NULL), 0);
	pthread_barrier_destroy(&barrier);
	for (int i = 0; i < THREADS; i++) {
		assert_true(t[i].ok);
		assert_int_not_equal(t[i].a, MPA_STACK_NONE);
		assert_int_not_equal(t[i].a, t[i].b);
		assert_int_equal(t[i].a, t[0].a);
		assert_int_equal(t[i].b, t[0].b);
		assert_true(t[i].hits >= 2 * (ROUNDS - 1));
	}
	/* Exactly the two thread stacks: no duplicate from the race. */
	assert_int_equal(mpa_stack_count(), before + 2);
	expect_line_frame(t[0].a, 1, "path_a", line_path_a);
	expect_line_frame(t[0].b, 1, "path_b", line_path_b);
}

/*
 * The lock-free table under contention: every thread interns the same
 * stacks, each in its own order; all must get the same id per stack and
 * the table must hold each stack once.
 */
#define RACE_STACKS 4000

struct racer {
	pthread_t t;
	unsigned int seed;
	uint32_t ids[RACE_STACKS];
};

static void
race_pcs(unsigned int k, uintptr_t pcs[3])
{
	pcs[0] = 0x1000 + (uintptr_t)k * 16;   /* in no module */
	pcs[1] = 0x77;
	pcs[2] = k;
}

static void *
racer_main(void *arg)
{
	struct racer *r = arg;

	pthread_barrier_wait(&barrier);
	for (unsigned int i = 0; i < RACE_STACKS; i++) {
		/* a permutation (the multiplier is prime to RACE_STACKS),
		 * started elsewhere by each thread */
		unsigned int k = (unsigned int)(((uint64_t)i * 2654435761u +
						 r->seed) % RACE_STACKS);
		uintptr_t pcs[3];

		race_pcs(k, pcs);
		r->ids[k] = mpa_stack_intern_pcs(pcs, 3);
	}
	return NULL;
}

static void
test_intern_race(void **state)
{
	static struct racer r[THREADS];
	uint32_t before = mpa_stack_count();

	(void)state;
	pthread_barrier_init(&barrier, NULL, THREADS);
	for (int i = 0; i < THREADS; i++) {
		r[i].seed = (unsigned int)i * (RACE_STACKS / THREADS);
		assert_int_equal(pthread_create(&r[i].t, NULL, racer_main,
						&r[i]), 0);
	}
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_join(r[i].t, NULL), 0);
	pthread_barrier_destroy(&barrier);
	assert_int_equal(mpa_stack_count(), before + RACE_STACKS);
	for (unsigned int k = 0; k < RACE_STACKS; k++) {
		const struct mpa_stack *s = get(r[0].ids[k]);
		uintptr_t pcs[3];

		race_pcs(k, pcs);
		for (int i = 1; i < THREADS; i++)
			assert_int_equal(r[i].ids[k], r[0].ids[k]);
		assert_int_not_equal(r[0].ids[k], MPA_STACK_NONE);
		assert_int_equal(s->depth, 3);
		assert_true(s->frames[0].pc == pcs[0] &&
			    s->frames[2].pc == pcs[2]);
	}
}

/* Threads that exit release their caches (a leak would be ~200 KiB each). */
static void *
thr_once(void *arg)
{
	(void)arg;
	path_a();
	return NULL;
}

static long
vm_size_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmSize: %ld", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

static void
test_thread_exit(void **state)
{
	long before = 0, after;

	(void)state;
	for (int round = 0; round < 2; round++) {
		if (round == 1)
			before = vm_size_kib();
		for (int i = 0; i < 200; i++) {
			pthread_t t;

			assert_int_equal(pthread_create(&t, NULL, thr_once, NULL),
					 0);
			assert_int_equal(pthread_join(t, NULL), 0);
		}
	}
	after = vm_size_kib();
	assert_true(after - before < 8 * 1024);
}

/*
 * A capture in a signal handler walks through the signal frame: correct,
 * and never cached (the frames beyond may be on another stack).
 */
static int line_sig;
static volatile uint32_t sig_id;

static void
on_signal(int sig)
{
	(void)sig;
	sig_id = mpa_stack_capture(); line_sig = __LINE__;
}

static void
test_signal_frame(void **state)
{
	struct sigaction sa, old;
	uint32_t ids[3];
	uint64_t h0, m0, h1, m1;

	(void)state;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	stats(&h0, &m0);
	for (int i = 0; i < rounds(3); i++) {
		raise(SIGUSR1);
		ids[i] = sig_id;
	}
	stats(&h1, &m1);
	sigaction(SIGUSR1, &old, NULL);
	assert_int_not_equal(ids[0], MPA_STACK_NONE);
	assert_int_equal(ids[1], ids[0]);
	assert_int_equal(ids[2], ids[0]);
	assert_int_equal(m1 - m0, 3);
	assert_int_equal(h1 - h0, 0);
	expect_line_frame(ids[0], 0, "on_signal", line_sig);
	assert_true(get(ids[0])->depth > 3);   /* beyond the signal frame */
}

/*
 * After a thread's first FILL_WARMUP (1024) misses, most misses unwind
 * with unw_backtrace() and do not fill the cache. Both unwinds must give
 * the same stack for the same path: 1200 keys cycled three times, from a
 * fresh thread. The count of misses must not depend on where the thread's
 * stack lands (the cache set is a hash of the frame address): with more
 * keys than FILL_WARMUP, the first round alone goes past the warm-up, and
 * each later round misses at least 1200 - 256 (the cache's entries).
 */
#define FAST_KEYS 1200
#define FAST_ROUNDS 3

static NOINLINE uint32_t
rec_capture(int d)
{
	uint32_t id;

	if (d == 0)
		return mpa_stack_capture();
	id = rec_capture(d - 1);
	__asm__ volatile("" ::: "memory");   /* not a tail call */
	return id;
}

static uint32_t fast_ids[FAST_ROUNDS][FAST_KEYS];
static uint64_t fast_misses;

static void *
fast_main(void *arg)
{
	(void)arg;
	for (int r = 0; r < FAST_ROUNDS; r++)
		for (int k = 0; k < FAST_KEYS; k++)
			fast_ids[r][k] = rec_capture(k);
	mpa_stack_thread_stats(NULL, &fast_misses);
	return NULL;
}

static void
test_fast_miss_same_ids(void **state)
{
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, fast_main, NULL), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	for (int k = 0; k < FAST_KEYS; k++) {
		assert_int_not_equal(fast_ids[0][k], MPA_STACK_NONE);
		for (int r = 1; r < FAST_ROUNDS; r++)
			assert_int_equal(fast_ids[r][k], fast_ids[0][k]);
	}
	/* Beyond the warm-up: the fast unwind ran. */
	assert_true(fast_misses >= FAST_KEYS + (FAST_ROUNDS - 1) *
		    (FAST_KEYS - 256));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_setup_bad_depth, setup_default),
		cmocka_unit_test_setup(test_two_paths, setup_default),
		cmocka_unit_test_setup(test_same_key_twins, setup_default),
		cmocka_unit_test_setup(test_same_key_runs, setup_default),
		cmocka_unit_test_setup(test_same_key_deep, setup_default),
		cmocka_unit_test_setup(test_same_key_frame_pointer,
				       setup_default),
		cmocka_unit_test_setup(test_depth, setup_default),
		cmocka_unit_test_setup(test_intern_pcs, setup_default),
		cmocka_unit_test_setup(test_symbol_truncate, setup_default),
		cmocka_unit_test_setup(test_dlclose_lines, setup_default),
		cmocka_unit_test_setup(test_dlclose_no_debuginfo, setup_default),
		cmocka_unit_test_setup(test_skip_self, setup_default),
		cmocka_unit_test_setup(test_threads, setup_default),
		cmocka_unit_test_setup(test_intern_race, setup_default),
		cmocka_unit_test_setup(test_thread_exit, setup_default),
		cmocka_unit_test_setup(test_signal_frame, setup_default),
		cmocka_unit_test_setup(test_fast_miss_same_ids, setup_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
