/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * secapp: an instrumented DPDK secondary process, for the fault tests
 * (tests/integration/mpa_fault_it.py). Started with --proc-type=secondary
 * and the file prefix of a running primary (mpaudit-fwd), it looks up the
 * primary's mbuf pool, takes SEC_TAKE mbufs, holds them for SEC_HOLD_MS
 * (below the primary's stuck threshold), gives them back and exits through
 * rte_eal_cleanup(). Neither process may report anything stuck.
 *
 * Usage: secapp [EAL options] -- POOL
 * Exit status: mpa_fini()'s verdict, 1 on failure.
 */

#include <stdio.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include "mpaudit.h"

#define PROG "secapp"
#define SEC_TAKE 16
#define SEC_HOLD_MS 100

int
main(int argc, char **argv)
{
	const struct timespec nap = { 0, SEC_HOLD_MS * 1000000L };
	struct rte_mbuf *m[SEC_TAKE];
	struct rte_mempool *mp;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, PROG ": EAL init failed\n");
		return 1;
	}
	if (argc - ret != 2) {
		fprintf(stderr, "usage: " PROG " [EAL options] -- POOL\n");
		return 1;
	}
	mp = rte_mempool_lookup(argv[ret + 1]);
	if (mp == NULL) {
		fprintf(stderr, PROG ": no pool %s\n", argv[ret + 1]);
		return 1;
	}
	if (rte_pktmbuf_alloc_bulk(mp, m, SEC_TAKE) != 0) {
		fprintf(stderr, PROG ": cannot take %d mbufs\n", SEC_TAKE);
		return 1;
	}
	nanosleep(&nap, NULL);
	for (int i = 0; i < SEC_TAKE; i++)
		rte_pktmbuf_free(m[i]);
	printf(PROG ": took and returned %d mbufs of %s\n", SEC_TAKE, mp->name);
	fflush(stdout);
	rte_eal_cleanup();
	return mpa_fini();
}
