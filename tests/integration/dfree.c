/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * dfree: a plain DPDK program (no override header, no mpaudit) that frees
 * one mbuf twice, for the preload tests of tests/integration/.
 *
 * It creates an mbuf pool without a per-lcore cache, so that every free
 * reaches the pool's ring through the mempool ops, takes DF_NB_TAKE mbufs,
 * frees them back with one of them freed twice, prints the ground truth,
 * then keeps using the pool: it takes every object it can get and checks
 * that no object is handed out twice.
 *
 * Plain DPDK 22.11 does not notice the double free: the pointer sits in
 * the pool's ring twice and is handed out twice ("duplicates=1"). Under
 * libmpaudit_preload.so the second free must be reported and dropped, so
 * the pool hands out exactly DF_NB_MBUFS distinct objects.
 *
 * Output (stdout):
 *   dfree: truth kind=double_free pool=dfree_pool address=0x...
 *   dfree: allocated=N distinct=D duplicates=K avail_after=A
 * Exit status: 0 the duplicate check passed (N == D == DF_NB_MBUFS and
 * every object back in the pool at the end), 1 otherwise or on failure.
 *
 * Usage: dfree [EAL options]
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define PROG "dfree"

#define DF_POOL_NAME "dfree_pool"
#define DF_NB_MBUFS 255
/* No cache: rte_mempool_put() goes straight to the ops enqueue. */
#define DF_CACHE_SIZE 0
#define DF_NB_TAKE 8
/* Index (in the DF_NB_TAKE taken mbufs) of the one freed twice. */
#define DF_VICTIM 3
/* Room for every object plus the duplicates a double free can create. */
#define DF_MAX_GET (DF_NB_MBUFS + DF_NB_TAKE)

static int
df_ptr_cmp(const void *a, const void *b)
{
	uintptr_t x = (uintptr_t)*(void *const *)a;
	uintptr_t y = (uintptr_t)*(void *const *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	struct rte_mbuf *taken[DF_NB_TAKE];
	struct rte_mbuf *all[DF_MAX_GET];
	struct rte_mempool *mp;
	unsigned int n, i, distinct, avail;
	int rc = 1;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, PROG ": cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	mp = rte_pktmbuf_pool_create(DF_POOL_NAME, DF_NB_MBUFS, DF_CACHE_SIZE,
				     0, RTE_MBUF_DEFAULT_BUF_SIZE,
				     (int)rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, PROG ": cannot create pool " DF_POOL_NAME
			": %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (rte_pktmbuf_alloc_bulk(mp, taken, DF_NB_TAKE) != 0) {
		fprintf(stderr, PROG ": cannot take %d mbufs\n", DF_NB_TAKE);
		goto out;
	}

	printf(PROG ": truth kind=double_free pool=" DF_POOL_NAME
	       " address=%p\n", (void *)taken[DF_VICTIM]);
	fflush(stdout);
	for (i = 0; i < DF_NB_TAKE; i++) {
		rte_pktmbuf_free(taken[i]);
		if (i == DF_VICTIM)
			rte_pktmbuf_free(taken[i]);	/* the bug */
	}

	/* Keep using the pool: is any object handed out twice? */
	for (n = 0; n < DF_MAX_GET; n++) {
		all[n] = rte_pktmbuf_alloc(mp);
		if (all[n] == NULL)
			break;
	}
	qsort(all, n, sizeof(all[0]), df_ptr_cmp);
	distinct = 0;
	for (i = 0; i < n; i++) {
		if (i > 0 && all[i] == all[i - 1])
			continue;
		/* Each object once: freeing a duplicate twice would repeat
		 * the bug. */
		all[distinct++] = all[i];
	}
	for (i = 0; i < distinct; i++)
		rte_pktmbuf_free(all[i]);
	avail = rte_mempool_avail_count(mp);
	printf(PROG ": allocated=%u distinct=%u duplicates=%u avail_after=%u\n",
	       n, distinct, n - distinct, avail);
	fflush(stdout);
	if (n == DF_NB_MBUFS && distinct == DF_NB_MBUFS &&
	    avail == DF_NB_MBUFS)
		rc = 0;
out:
	rte_eal_cleanup();
	return rc;
}
