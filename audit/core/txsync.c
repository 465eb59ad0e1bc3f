/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * TX stamp elision: the slow paths of learning whether a TX queue's
 * driver frees every packet before tx_burst returns, and of finding that
 * it no longer does (mpaudit_stamp.h, MPA_TXSYNC_TRUST).
 *
 * What the checks rely on: rte_mempool_put() of n objects always leaves
 * them on top of the lcore's cache, in order (a full cache is flushed to
 * the pool first, then the objects are copied to its bottom), and only
 * this lcore takes objects out of its own cache. So a driver that frees
 * what it was given, in order, leaves the burst's last packet on top;
 * a driver that keeps the last packet cannot have it there.
 */

#include <string.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mpaudit_stamp.h"
#include "log.h"

void
mpa_txsync_learn(int32_t *txsync, const struct rte_mempool_cache *c,
		 struct rte_mbuf * const *pkts, uint16_t sent)
{
	if (c == NULL || !mpa_cache_top_is(c, pkts[sent - 1])) {
		/* No cache to look in, or the driver kept the last packet. */
		*txsync = MPA_TXSYNC_NEVER;
		return;
	}
	/* A flush in the middle of the burst sent its start to the pool. */
	if (c->len < sent ||
	    memcmp(&c->objs[c->len - sent], pkts, sent * sizeof(*pkts)) != 0)
		return;
	if (*txsync < MPA_TXSYNC_TRUST)
		(*txsync)++;
}

/* Is @p obj in c->objs[from..len)? */
static int
put_since(const struct rte_mempool_cache *c, uint32_t from, const void *obj)
{
	for (uint32_t i = from; i < c->len && i < RTE_DIM(c->objs); i++)
		if (c->objs[i] == obj)
			return 1;
	return 0;
}

void
mpa_txsync_lost(int32_t *txsync, const struct rte_mempool_cache *c,
		uint32_t len0, const void *top0, struct rte_mbuf * const *pkts,
		uint16_t sent, uint64_t stamp, uint16_t port, uint16_t queue)
{
	unsigned int kept = 0;

	*txsync = MPA_TXSYNC_NEVER;
	/*
	 * Without a flush the cache only grew during the call: objs[0..len0)
	 * are as they were, and every packet the call freed is in
	 * objs[len0..len), still ours. Any other packet of the burst is
	 * the driver's, which keeps it until a later call on this queue
	 * (this thread's), so stamping it now races with nobody. After a
	 * flush a freed packet may be in another lcore's hands: stamp none.
	 */
	if (len0 == 0 || c->len < len0 || c->objs[len0 - 1] != top0) {
		MPA_LOG(WARNING, "port %u queue %u: the driver kept packets it used to free at once; %u packets of one burst keep their previous stamp",
			port, queue, sent);
		return;
	}
	for (uint16_t i = 0; i < sent; i++)
		if (!put_since(c, len0, pkts[i])) {
			mpa_stamp_mbuf_k(pkts[i], stamp, mpa_objhist_k);
			kept++;
		}
	MPA_LOG(INFO, "port %u queue %u: the driver kept %u of %u packets sent; its tx stamps are written again",
		port, queue, kept, sent);
}
