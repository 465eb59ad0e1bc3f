/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * freebench: cost of taking mbufs from a pool with the usual per-lcore
 * cache and freeing them back, the path the double-free check of the free
 * wrappers sits on. Built twice: plain, and with the override header and
 * libmpaudit (freebench-audited); bench.py (section free) runs both.
 *
 * Prints, per case, the median and the fastest of REPS timed loops:
 *   freebench: case=bulk ns_per_mbuf=N min_ns=M
 *   freebench: case=single ns_per_mbuf=N min_ns=M
 * (bulk: rte_pktmbuf_alloc_bulk + rte_pktmbuf_free_bulk of 32; single:
 * 32 rte_pktmbuf_alloc then 32 rte_pktmbuf_free). The stamps are written
 * and checked, so an audited build must run the auditor (MPAUDIT_* as
 * usual); the exit status is 0, or 1 on failure.
 *
 * Usage: freebench [EAL options] [-- OPS]
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>

#define FB_NB 8191
#define FB_CACHE 256
#define FB_BURST 32
#define FB_REPS 7

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static __attribute__((noinline)) int
loop_bulk(struct rte_mempool *mp, unsigned int ops)
{
	struct rte_mbuf *m[FB_BURST];

	for (unsigned int i = 0; i < ops; i++) {
		if (rte_pktmbuf_alloc_bulk(mp, m, FB_BURST) != 0)
			return -1;
		rte_pktmbuf_free_bulk(m, FB_BURST);
	}
	return 0;
}

static __attribute__((noinline)) int
loop_single(struct rte_mempool *mp, unsigned int ops)
{
	struct rte_mbuf *m[FB_BURST];

	for (unsigned int i = 0; i < ops; i++) {
		for (unsigned int k = 0; k < FB_BURST; k++) {
			m[k] = rte_pktmbuf_alloc(mp);
			if (m[k] == NULL)
				return -1;
		}
		for (unsigned int k = 0; k < FB_BURST; k++)
			rte_pktmbuf_free(m[k]);
	}
	return 0;
}

static int
run_case(const char *name, int (*fn)(struct rte_mempool *, unsigned int),
	 struct rte_mempool *mp, unsigned int ops)
{
	uint64_t ns[FB_REPS], hz = rte_get_tsc_hz();

	if (fn(mp, ops / 10 + 1) != 0)    /* warm the cache and the stamps */
		return -1;
	for (int r = 0; r < FB_REPS; r++) {
		uint64_t t0 = rte_rdtsc_precise();

		if (fn(mp, ops) != 0)
			return -1;
		ns[r] = (rte_rdtsc_precise() - t0) * 1000000000ull / hz;
	}
	qsort(ns, FB_REPS, sizeof(ns[0]), cmp_u64);
	printf("freebench: case=%s ns_per_mbuf=%.2f min_ns=%.2f\n", name,
	       (double)ns[FB_REPS / 2] / ((double)ops * FB_BURST),
	       (double)ns[0] / ((double)ops * FB_BURST));
	return 0;
}

int
main(int argc, char **argv)
{
	struct rte_mempool *mp;
	unsigned int ops = 200000;
	int ret = rte_eal_init(argc, argv), rc = 1;

	if (ret < 0) {
		fprintf(stderr, "freebench: cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	if (argc - ret > 1)
		ops = (unsigned int)strtoul(argv[ret + 1], NULL, 0);
	mp = rte_pktmbuf_pool_create("freebench", FB_NB, FB_CACHE, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	if (mp == NULL || ops == 0) {
		fprintf(stderr, "freebench: no pool or no OPS\n");
		goto out;
	}
	if (run_case("bulk", loop_bulk, mp, ops) == 0 &&
	    run_case("single", loop_single, mp, ops) == 0)
		rc = 0;
	fflush(stdout);
out:
	rte_eal_cleanup();
	return rc;
}
