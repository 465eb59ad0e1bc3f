/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * stackbench: what one stack capture costs (audit/heap/stack.c).
 *
 *   stackbench [--iters N] [--miss-iters N] [--depth D]
 *
 * Every case captures from the bottom of a chain of frames deeper than the
 * kept depth (default 16), so a full stack is walked:
 *
 *   hit       mpa_stack_capture() answered by the per-thread cache (one
 *             call path, repeated): the allocation-path cost;
 *   miss      the same path after mpa_stack_setup(), which invalidates the
 *             cache: unw_init_local() + unw_step() per frame, the slot
 *             bookkeeping and the lookup of the (already interned) stack;
 *   setup     mpa_stack_setup() alone, included in "miss";
 *   unw_backtrace  libunwind's own fast backtrace of as many frames, for
 *             comparison (no interning, no module, no cache).
 *
 * Prints one line per case, ns per capture. Not run by meson test.
 */

#define UNW_LOCAL_ONLY

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libunwind.h>

#include "heap/stack.h"

#define CHAIN 24   /* frames between main and the capture loop */

static unsigned long iters = 2000000, miss_iters = 2000;
static unsigned int depth = MPA_STACK_DEFAULT_DEPTH;
static volatile uint32_t sink;
static uint64_t timed_hits, timed_misses;   /* of the last timed loop */
/* volatile: a loop the compiler cannot unroll into two call sites */
static volatile int passes = 2;
static volatile unsigned long counts[2];

typedef void (*bench_fn)(unsigned long n);

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static __attribute__((noinline)) uint32_t
capture_site(void)
{
	uint32_t id = mpa_stack_capture();

	sink += id;
	return id;
}

static __attribute__((noinline)) void
loop_hit(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		capture_site();
}

static __attribute__((noinline)) void
loop_miss(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		mpa_stack_setup(depth, NULL);
		capture_site();
	}
}

static __attribute__((noinline)) void
loop_setup(unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		mpa_stack_setup(depth, NULL);
}

static __attribute__((noinline)) void
loop_backtrace(unsigned long n)
{
	void *buf[MPA_STACK_MAX_DEPTH + 2];

	for (unsigned long i = 0; i < n; i++)
		sink += (uint32_t)unw_backtrace(buf, (int)depth + 1);
}

/* A chain of real frames above the loop (no inlining, no sibling calls). */
static __attribute__((noinline)) double
chain(int k, bench_fn fn, unsigned long n)
{
	double t0, t = 0;

	if (k > 0) {
		t = chain(k - 1, fn, n);
		sink++;
		return t;
	}
	uint64_t h0, m0, h1, m1;

	for (int pass = 0; pass < passes; pass++) {
		/* pass 0 warms up (first capture, caches, pages); one call
		 * site for both, so both are the same path */
		unsigned long m;

		counts[0] = n < 16 ? n : 16;
		counts[1] = n;
		m = counts[pass];

		mpa_stack_thread_stats(&h0, &m0);
		t0 = now_ns();
		fn(m);
		t = now_ns() - t0;
		mpa_stack_thread_stats(&h1, &m1);
	}
	timed_hits = h1 - h0;
	timed_misses = m1 - m0;
	return t / (double)n;
}

static void
report(const char *name, double ns)
{
	printf("%-14s depth %2u  %10.1f ns/capture\n", name, depth, ns);
}

int
main(int argc, char **argv)
{
	double hit, miss, setup, bt;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--iters") == 0)
			iters = strtoul(argv[i + 1], NULL, 0);
		else if (strcmp(argv[i], "--miss-iters") == 0)
			miss_iters = strtoul(argv[i + 1], NULL, 0);
		else if (strcmp(argv[i], "--depth") == 0)
			depth = (unsigned int)strtoul(argv[i + 1], NULL, 0);
	}
	if (mpa_stack_setup(depth, NULL) != 0) {
		fprintf(stderr, "stackbench: bad depth %u\n", depth);
		return 1;
	}

	hit = chain(CHAIN, loop_hit, iters);
	if (timed_misses != 0)
		fprintf(stderr, "stackbench: hit case missed %llu times\n",
			(unsigned long long)timed_misses);
	miss = chain(CHAIN, loop_miss, miss_iters);
	if (timed_hits != 0)
		fprintf(stderr, "stackbench: miss case hit %llu times\n",
			(unsigned long long)timed_hits);

	setup = chain(CHAIN, loop_setup, iters);
	bt = chain(CHAIN, loop_backtrace, miss_iters * 50);

	report("hit", hit);
	report("miss", miss);
	report("setup", setup);
	report("unw_backtrace", bt);
	printf("stacks interned: %u\n", mpa_stack_count());
	return 0;
}
