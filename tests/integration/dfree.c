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
 * Exit status: 0 the duplicate check passed (N == D == the pool's size
 * and every object back in the pool at the end), 1 otherwise or on
 * failure.
 *
 * With "-- cache" the pool has the usual per-lcore cache (256) and three
 * mbufs are freed twice, then the program waits WAIT_MS (so the scanner
 * of the zero-recompile mode can see the duplicates in two scans) before
 * the same check: the duplicates sit in lcore 0's cache. Built with the
 * override header (dfree-instr) the second frees must be kept out;
 * under the preload alone they are found, not prevented.
 *
 * Output (stdout), one truth line per mbuf freed twice:
 *   dfree: truth kind=double_free pool=dfree_pool address=0x... lcore=0
 *          site=df_free_all (dfree.c:L2) first_site=df_free_all (dfree.c:L1)
 *   dfree: allocated=N distinct=D duplicates=K avail_after=A
 *
 * Usage: dfree [EAL options] [-- cache [WAIT_MS]]
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define PROG "dfree"

#define DF_POOL_NAME "dfree_pool"
#define DF_NB_MBUFS 255
/* Without cache: rte_mempool_put() goes straight to the ops enqueue. */
#define DF_CACHE_SIZE 0
/* With cache: the size applications use, and a pool large enough for it. */
#define DF_CACHE_ON 256
#define DF_NB_MBUFS_CACHE 1023
#define DF_NB_TAKE 8
/* Index (in the DF_NB_TAKE taken mbufs) of the first one freed twice. */
#define DF_VICTIM 3
/* Room for every object plus the duplicates a double free can create. */
#define DF_MAX_GET (DF_NB_MBUFS_CACHE + DF_NB_TAKE)

/* The line of @stmt, written on one line with it. */
#define LINE_OF(var, stmt) do { (var) = __LINE__; stmt; } while (0)

static int first_line, second_line;

/* Free taken[0..n), and taken[DF_VICTIM .. + victims) a second time. */
static __attribute__((noinline)) void
df_free_all(struct rte_mbuf **taken, unsigned int n, unsigned int victims)
{
	for (unsigned int i = 0; i < n; i++) {
		LINE_OF(first_line, rte_pktmbuf_free(taken[i]));
		if (i >= DF_VICTIM && i < DF_VICTIM + victims)
			LINE_OF(second_line, rte_pktmbuf_free(taken[i])); /* the bug */
	}
}

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
	static struct rte_mbuf *all[DF_MAX_GET];
	struct rte_mbuf *taken[DF_NB_TAKE];
	struct rte_mempool *mp;
	unsigned int n, i, distinct, avail, nb = DF_NB_MBUFS, victims = 1;
	unsigned int cache = DF_CACHE_SIZE, wait_ms = 0;
	const char *file;
	int rc = 1, ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, PROG ": cannot initialise EAL: %s\n",
			rte_strerror(rte_errno));
		return 1;
	}
	argc -= ret;
	argv += ret;
	if (argc >= 2 && strcmp(argv[1], "cache") == 0 && argc <= 3) {
		cache = DF_CACHE_ON;
		nb = DF_NB_MBUFS_CACHE;
		victims = 3;
		wait_ms = argc == 3 ? (unsigned int)atoi(argv[2]) : 0;
	} else if (argc != 1) {
		fprintf(stderr, "usage: " PROG " [EAL options] [-- cache [WAIT_MS]]\n");
		goto out;
	}
	mp = rte_pktmbuf_pool_create(DF_POOL_NAME, nb, cache, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE,
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

	df_free_all(taken, DF_NB_TAKE, victims);
	/* Sites name the file as the compiler saw it, less any "../". */
	for (file = __FILE__; strncmp(file, "../", 3) == 0; file += 3)
		;
	for (i = DF_VICTIM; i < DF_VICTIM + victims; i++)
		printf(PROG ": truth kind=double_free pool=" DF_POOL_NAME
		       " address=%p lcore=%u site=df_free_all (%s:%d)"
		       " first_site=df_free_all (%s:%d)\n", (void *)taken[i],
		       rte_lcore_id(), file, second_line, file, first_line);
	fflush(stdout);
	if (wait_ms != 0)
		rte_delay_us_sleep(wait_ms * 1000u);

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
	if (n == nb && distinct == nb && avail == nb)
		rc = 0;
out:
	rte_eal_cleanup();
	return rc;
}
