/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * heapbench: the cost of one allocation + free, for the heap tracking
 * benchmark of ./run bench (tests/bench/bench.py, section d).
 *
 *   heapbench <EAL args> -- [--kind libc|rte] [--threads 1|2] [--ops N]
 *             [--size BYTES] [--case pair|window|both] [--depth FRAMES]
 *             [--reps R]
 *
 * A plain DPDK program, linked without mpaudit: bench.py runs it as it is
 * and under LD_PRELOAD=libmpaudit_preload.so, so both runs execute the same
 * binary and only the interposition differs.
 *
 * After rte_eal_init() every thread (the main lcore, and with --threads 2
 * also the first worker lcore, allocating at the same time) runs two timed
 * loops of `ops` alloc+free pairs of `size` bytes, malloc/free or
 * rte_malloc/rte_free:
 *
 *   window  keep the last 64 blocks live and free the oldest for each new
 *           one, so the allocator and a tracker's table hold many live
 *           entries and a free is not always of the block just allocated;
 *   pair    free each block right after allocating it (the allocator's
 *           fastest path, and the tracker's add and remove back to back).
 *
 * The loops sit under a chain of --depth (default 8) frames that the
 * compiler may neither inline nor turn into jumps, so a tracker that
 * captures the allocation's call stack walks a realistic stack.
 *
 * Each timed loop runs --reps times (default 5). A repetition's time is
 * the wall time over all threads (first start to last end) divided by the
 * pairs of one thread; each case prints the median repetition, which a
 * preemption by another process on a shared machine hardly moves, and
 * the fastest:
 *
 *   heapbench: kind=libc threads=2 case=pair size=256 ops=1000000 reps=5 ns_per_pair=12.34 min_ns=12.01
 */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pause.h>

#define HB_WINDOW 64
#define HB_DEFAULT_OPS 1000000UL
#define HB_DEFAULT_SIZE 256UL
#define HB_DEFAULT_DEPTH 8U
#define HB_MAX_DEPTH 64U
#define HB_MAX_THREADS 2U
#define HB_DEFAULT_REPS 5U
#define HB_MAX_REPS 101U
/* Untimed pairs before each timed loop: fill caches and the tracker's
 * tables, so that the loop measures the steady state. */
#define HB_WARMUP_DIV 16UL
#define HB_WARMUP_MIN 1000UL

enum hb_kind { HB_LIBC, HB_RTE };
enum hb_case { HB_CASE_WINDOW, HB_CASE_PAIR, HB_CASES };

static const char *const hb_case_name[HB_CASES] = { "window", "pair" };

struct hb_opts {
	enum hb_kind kind;
	unsigned int threads;
	unsigned long ops;
	size_t size;
	unsigned int depth;
	unsigned int reps;
	int do_case[HB_CASES];
};

static struct hb_opts opts = {
	.kind = HB_LIBC,
	.threads = 1,
	.ops = HB_DEFAULT_OPS,
	.size = HB_DEFAULT_SIZE,
	.depth = HB_DEFAULT_DEPTH,
	.reps = HB_DEFAULT_REPS,
	.do_case = { 1, 1 },
};

/* Per thread and case: start and end of each repetition of its timed loop. */
static struct {
	uint64_t t0[HB_MAX_REPS], t1[HB_MAX_REPS];
	int failed;
} __rte_cache_aligned hb_times[HB_MAX_THREADS][HB_CASES];

/* Reusable spinning barrier: both threads start each timed loop together,
 * so that with --threads 2 they really allocate concurrently. */
static unsigned int bar_count;
static unsigned int bar_gen;

static void
hb_barrier(void)
{
	unsigned int gen = __atomic_load_n(&bar_gen, __ATOMIC_ACQUIRE);

	if (__atomic_add_fetch(&bar_count, 1, __ATOMIC_ACQ_REL) == opts.threads) {
		__atomic_store_n(&bar_count, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&bar_gen, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&bar_gen, __ATOMIC_ACQUIRE) == gen)
		rte_pause();
}

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * The block escapes into an asm the compiler cannot see through: without
 * this GCC may delete a malloc()/free() pair whose block is never used.
 */
static inline void
escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

/* The kind is a constant in each caller below, so the branch folds away. */
static inline __attribute__((always_inline)) void *
hb_alloc(enum hb_kind kind, size_t size)
{
	void *p = kind == HB_RTE ? rte_malloc(NULL, size, 0) : malloc(size);

	if (likely(p != NULL)) {
		/* Use the block, as a program would. */
		*(volatile char *)p = 1;
		escape(p);
	}
	return p;
}

static inline __attribute__((always_inline)) void
hb_free(enum hb_kind kind, void *p)
{
	escape(p);
	if (kind == HB_RTE)
		rte_free(p);
	else
		free(p);
}

/* @return 0, or -1 if an allocation failed. */
static inline __attribute__((always_inline)) int
hb_loop_pair(enum hb_kind kind, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		void *p = hb_alloc(kind, opts.size);

		if (unlikely(p == NULL))
			return -1;
		hb_free(kind, p);
	}
	return 0;
}

static inline __attribute__((always_inline)) int
hb_loop_window(enum hb_kind kind, void **win, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		unsigned int slot = i % HB_WINDOW;
		void *p = hb_alloc(kind, opts.size);

		if (unlikely(p == NULL))
			return -1;
		/* Allocate before freeing the oldest: 65 blocks live at the
		 * peak, and the new block is never the one just freed. */
		hb_free(kind, win[slot]);
		win[slot] = p;
	}
	return 0;
}

static void
hb_window_free(enum hb_kind kind, void **win)
{
	for (unsigned int i = 0; i < HB_WINDOW; i++) {
		if (win[i] != NULL)
			hb_free(kind, win[i]);
		win[i] = NULL;
	}
}

/*
 * One case on one thread: untimed warm-up, then per repetition a barrier
 * and the timed loop. Its callers pass the kind as a constant, so GCC
 * specialises it (a constprop copy, unswitched loops) and the timed loops
 * test no kind.
 */
static __attribute__((noinline)) int
hb_case_run(enum hb_kind kind, enum hb_case c, unsigned int tid)
{
	void *win[HB_WINDOW] = { NULL };
	unsigned long warm = opts.ops / HB_WARMUP_DIV;
	int rc = 0;

	if (warm < HB_WARMUP_MIN)
		warm = HB_WARMUP_MIN;
	if (c == HB_CASE_WINDOW) {
		for (unsigned int i = 0; i < HB_WINDOW && rc == 0; i++) {
			win[i] = hb_alloc(kind, opts.size);
			if (win[i] == NULL)
				rc = -1;
		}
		if (rc == 0)
			rc = hb_loop_window(kind, win, warm);
	} else {
		rc = hb_loop_pair(kind, warm);
	}

	for (unsigned int r = 0; r < opts.reps; r++) {
		/* Even a failed thread takes part in every barrier: the
		 * other waits there. */
		hb_barrier();
		hb_times[tid][c].t0[r] = now_ns();
		if (rc == 0)
			rc = c == HB_CASE_WINDOW ?
				hb_loop_window(kind, win, opts.ops) :
				hb_loop_pair(kind, opts.ops);
		hb_times[tid][c].t1[r] = now_ns();
	}
	hb_window_free(kind, win);
	hb_times[tid][c].failed = rc != 0;
	return rc;
}

static __attribute__((noinline)) int
hb_cases_libc(unsigned int tid)
{
	int rc = 0;

	for (int c = 0; c < HB_CASES; c++)
		if (opts.do_case[c])
			rc |= hb_case_run(HB_LIBC, c, tid);
	return rc;
}

static __attribute__((noinline)) int
hb_cases_rte(unsigned int tid)
{
	int rc = 0;

	for (int c = 0; c < HB_CASES; c++)
		if (opts.do_case[c])
			rc |= hb_case_run(HB_RTE, c, tid);
	return rc;
}

/*
 * The call chain above the loops. The asm after the call keeps the call
 * from being the function's last act, so GCC cannot make it a sibling
 * jump that would drop the frame; noinline and noclone keep one real
 * frame per level.
 */
static __attribute__((noinline, noclone)) int
hb_chain(unsigned int level, unsigned int tid)
{
	int rc;

	if (level == 0)
		rc = opts.kind == HB_RTE ? hb_cases_rte(tid) : hb_cases_libc(tid);
	else
		rc = hb_chain(level - 1, tid);
	__asm__ volatile("" : "+r"(rc) : : "memory");
	return rc;
}

/* The loops run --depth frames below this one (hb_thread and depth - 1
 * levels of hb_chain), plus hb_cases_* and hb_case_run. */
static int
hb_thread(void *arg)
{
	return hb_chain(opts.depth - 1, (unsigned int)(uintptr_t)arg);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Median of n sorted values (the mean of the middle two if n is even). */
static double
median_u64(const uint64_t *v, unsigned int n)
{
	return n % 2 ? (double)v[n / 2] :
		       ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s <EAL args> -- [--kind libc|rte] [--threads 1|2] [--ops N]\n"
		"       [--size BYTES] [--case pair|window|both] [--depth FRAMES]\n"
		"       [--reps R]\n",
		prog);
}

static int
parse_ulong(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || s[0] == '-' ||
	    v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "threads", required_argument, NULL, 't' },
		{ "ops", required_argument, NULL, 'o' },
		{ "size", required_argument, NULL, 's' },
		{ "case", required_argument, NULL, 'c' },
		{ "depth", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int opt, li = 0;

	while ((opt = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		switch (opt) {
		case 'k':
			if (strcmp(optarg, "libc") == 0)
				opts.kind = HB_LIBC;
			else if (strcmp(optarg, "rte") == 0)
				opts.kind = HB_RTE;
			else
				goto bad;
			break;
		case 't':
			if (parse_ulong(optarg, 1, HB_MAX_THREADS, &v) != 0)
				goto bad;
			opts.threads = v;
			break;
		case 'o':
			if (parse_ulong(optarg, 1, ULONG_MAX, &v) != 0)
				goto bad;
			opts.ops = v;
			break;
		case 's':
			if (parse_ulong(optarg, 1, 1UL << 30, &v) != 0)
				goto bad;
			opts.size = v;
			break;
		case 'c':
			if (strcmp(optarg, "both") == 0) {
				opts.do_case[HB_CASE_PAIR] = 1;
				opts.do_case[HB_CASE_WINDOW] = 1;
			} else if (strcmp(optarg, "pair") == 0) {
				opts.do_case[HB_CASE_PAIR] = 1;
				opts.do_case[HB_CASE_WINDOW] = 0;
			} else if (strcmp(optarg, "window") == 0) {
				opts.do_case[HB_CASE_PAIR] = 0;
				opts.do_case[HB_CASE_WINDOW] = 1;
			} else {
				goto bad;
			}
			break;
		case 'd':
			if (parse_ulong(optarg, 1, HB_MAX_DEPTH, &v) != 0)
				goto bad;
			opts.depth = v;
			break;
		case 'r':
			if (parse_ulong(optarg, 1, HB_MAX_REPS, &v) != 0)
				goto bad;
			opts.reps = v;
			break;
		case 'h':
			usage(argv[0]);
			exit(0);
		default:
			usage(argv[0]);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "heapbench: unexpected argument '%s'\n", argv[optind]);
		usage(argv[0]);
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "heapbench: bad value '%s' for --%s\n", optarg,
		longopts[li].name);
	usage(argv[0]);
	return -1;
}

int
main(int argc, char **argv)
{
	unsigned int worker = RTE_MAX_LCORE;
	int ret, rc = 0;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "heapbench: rte_eal_init: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argv[ret] = argv[0];
	if (parse_args(argc - ret, argv + ret) != 0) {
		rte_eal_cleanup();
		return 2;
	}

	if (opts.threads == 2) {
		worker = rte_get_next_lcore(-1, 1, 0);
		if (worker >= RTE_MAX_LCORE) {
			fprintf(stderr, "heapbench: --threads 2 needs a worker lcore (e.g. EAL --lcores 0@0,1@1)\n");
			rte_eal_cleanup();
			return 2;
		}
		if (rte_eal_remote_launch(hb_thread, (void *)(uintptr_t)1,
					  worker) != 0) {
			fprintf(stderr, "heapbench: cannot launch on lcore %u\n",
				worker);
			rte_eal_cleanup();
			return 1;
		}
	}
	rc |= hb_thread((void *)(uintptr_t)0);
	if (worker < RTE_MAX_LCORE)
		rc |= rte_eal_wait_lcore(worker);

	for (int c = 0; c < HB_CASES; c++) {
		uint64_t wall[HB_MAX_REPS];
		int failed = 0;

		if (!opts.do_case[c])
			continue;
		for (unsigned int r = 0; r < opts.reps; r++) {
			uint64_t t0 = UINT64_MAX, t1 = 0;

			for (unsigned int t = 0; t < opts.threads; t++) {
				t0 = RTE_MIN(t0, hb_times[t][c].t0[r]);
				t1 = RTE_MAX(t1, hb_times[t][c].t1[r]);
			}
			wall[r] = t1 - t0;
		}
		for (unsigned int t = 0; t < opts.threads; t++)
			failed |= hb_times[t][c].failed;
		if (failed) {
			fprintf(stderr, "heapbench: case %s: an allocation of %zu bytes failed\n",
				hb_case_name[c], opts.size);
			continue;
		}
		qsort(wall, opts.reps, sizeof(wall[0]), cmp_u64);
		printf("heapbench: kind=%s threads=%u case=%s size=%zu ops=%lu reps=%u ns_per_pair=%.2f min_ns=%.2f\n",
		       opts.kind == HB_RTE ? "rte" : "libc", opts.threads,
		       hb_case_name[c], opts.size, opts.ops, opts.reps,
		       median_u64(wall, opts.reps) / (double)opts.ops,
		       (double)wall[0] / (double)opts.ops);
	}
	fflush(stdout);
	rte_eal_cleanup();
	return rc != 0 ? 1 : 0;
}
