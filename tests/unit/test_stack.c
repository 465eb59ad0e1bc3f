/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/stack.c and audit/symbol.c. The ground truth is the
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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "stack.h"
#include "symbol.h"

#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

typedef uint32_t (*cap_fn)(void);
typedef uint32_t (*stackmod_fn)(cap_fn cb, int *line);

static volatile int sink;

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
	uint64_t h0, m0, h1, m1;
	uint32_t a, b;

	(void)state;
	/* One call site each, so that every round is the same two paths. */
	for (int i = 0; i <= 100; i++) {
		uint32_t x = path_a(), y = path_b();

		if (i == 0) {
			a = x;
			b = y;
			stats(&h0, &m0);
			continue;
		}
		assert_int_equal(x, a);
		assert_int_equal(y, b);
	}
	stats(&h1, &m1);
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
	for (int i = 0; i < 8; i++) {
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

/* As above, with the difference two frames above the capture. */
static void
test_same_key_deep(void **state)
{
	uint32_t ids[6];
	uintptr_t probes[6];

	(void)state;
	for (int i = 0; i < 6; i++) {
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
	for (int i = 0; i < 6; i++) {
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
	uint32_t id = MPA_STACK_NONE;
	int line, mod_line;

	(void)state;
	assert_non_null(h);
	fn = (stackmod_fn)(uintptr_t)dlsym(h, "stackmod_capture");
	assert_non_null(fn);
	assert_int_equal(mpa_stack_setup(MPA_STACK_DEFAULT_DEPTH,
					 (const void *)(uintptr_t)fn), 0);
	for (int i = 0; i < 3; i++) {
		uint32_t x = skip_caller(fn, &line, &mod_line);

		if (i == 0)
			id = x;
		assert_int_equal(x, id);
	}
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
	for (int i = 0; i <= ROUNDS; i++) {
		uint32_t a = path_a(), b = path_b();

		if (i == 0) {
			t->a = a;
			t->b = b;
		} else if (a != t->a || b != t->b) {
			t->ok = 0;
		}
	}
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
		assert_true(t[i].hits >= 2 * ROUNDS);
	}
	/* Exactly the two thread stacks: no duplicate from the race. */
	assert_int_equal(mpa_stack_count(), before + 2);
	expect_line_frame(t[0].a, 1, "path_a", line_path_a);
	expect_line_frame(t[0].b, 1, "path_b", line_path_b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_setup_bad_depth, setup_default),
		cmocka_unit_test_setup(test_two_paths, setup_default),
		cmocka_unit_test_setup(test_same_key_twins, setup_default),
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
