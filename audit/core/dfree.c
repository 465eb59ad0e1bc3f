/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Double frees of pool objects: the instrumented free path's check and the
 * scanner's duplicate finding (see dfree.h).
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "mpaudit_stamp.h"
#include "dfree.h"
#include "errors.h"
#include "holder.h"
#include "pool.h"
#include "ring.h"

/* In this lcore's cache: nobody else touches it, the answer is exact. */
static int
in_cache(const struct rte_mempool_cache *c, const void *obj)
{
	if (c == NULL)
		return 0;
	for (uint32_t i = 0; i < c->len && i < RTE_DIM(c->objs); i++)
		if (c->objs[i] == obj)
			return 1;
	return 0;
}

/*
 * In the ring, and still there: found at slot cons + i, and no consumer
 * has begun to take slot cons + i since (its head is not past it), so at
 * that moment the pool owned the object.
 */
static int
in_ring(const struct rte_mempool *mp, const void *obj)
{
	const struct rte_ring *r;
	void *const *slots;
	uint32_t cons, n;

	if (!mpa_pool_ops_is_ring(mp))
		return 0;
	r = mp->pool_data;
	slots = (void *const *)(const void *)&r[1];
	n = mpa_ring_window(r, &cons);
	for (uint32_t i = 0; i < n; i++) {
		if (__atomic_load_n(&slots[(cons + i) & r->mask], __ATOMIC_ACQUIRE) != obj)
			continue;
		return (int32_t)(__atomic_load_n(&r->cons.head, __ATOMIC_ACQUIRE) -
				 (cons + i)) <= 0;
	}
	return 0;
}

static void
site_str(char *buf, size_t len, const struct mpa_site *site)
{
	if (site == NULL || site->file == NULL)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, "%s (%s:%u)", site->func != NULL ? site->func : "?",
			 mpa_site_file(site->file), site->line);
}

int
mpa_free_twice(struct rte_mempool *mp, void *obj, uint64_t old,
	       struct rte_mempool_cache *cache, const struct mpa_site *site)
{
	const struct mpa_holder_ent *first = mpa_holder_get(mpa_stamp_holder(old));
	char here[96], then[96];

	if (cache == NULL)
		cache = rte_mempool_default_cache(mp, mpa_lcore_id());
	if (!in_cache(cache, obj) && !in_ring(mp, obj))
		return 0;
	site_str(here, sizeof(here), site);
	if (first != NULL && first->site != NULL)
		site_str(then, sizeof(then), first->site);
	mpa_error_report_lcore(MPA_ERR_DOUBLE_FREE, mp->name, (uintptr_t)obj, here,
			       first != NULL && first->site != NULL ? then : NULL,
			       mpa_lcore_id() < RTE_MAX_LCORE ? (int)mpa_lcore_id() : -1);
	return 1;
}

void
mpa_free_bulk_checked(struct rte_mbuf **mbufs, unsigned int n,
		      unsigned int from, uint64_t stamp,
		      const struct mpa_site *site)
{
	for (unsigned int i = from; i < n; i++) {
		struct rte_mbuf *m = mbufs[i];

		if (m == NULL || mpa_stamp_free_chain(m, stamp, site, mpa_objhist_k))
			continue;
		rte_pktmbuf_free(m);
	}
}

void
mpa_put_bulk_checked(struct rte_mempool *mp, void * const *objs,
		     unsigned int n, unsigned int from,
		     struct rte_mempool_cache *cache, uint64_t stamp,
		     const struct mpa_site *site)
{
	for (unsigned int i = from; i < n; i++)
		if (!mpa_stamp_free(mp, objs[i], stamp, cache, site))
			rte_mempool_generic_put(mp, &objs[i], 1, cache);
}

/* ---- the scanner's duplicates ----------------------------------------- */

void
mpa_dups_note(struct mpa_dups *d, int64_t idx, int lcore, uint32_t slot,
	      uint64_t stamp)
{
	if (d->n < MPA_DUPS_MAX) {
		d->cur[d->n].idx = idx;
		d->cur[d->n].lcore = lcore;
		d->cur[d->n].slot = slot;
		d->cur[d->n].stamp = stamp;
		d->n++;
	}
}

static int
same_dup(const struct mpa_dup *a, const struct mpa_dup *b)
{
	return a->idx == b->idx && a->lcore == b->lcore && a->slot == b->slot &&
	       a->stamp == b->stamp;
}

void
mpa_dups_settle(struct mpa_pool *p, struct mpa_dups *d)
{
	for (uint32_t i = 0; i < d->n; i++) {
		int64_t idx = d->cur[i].idx;
		uint64_t bit = UINT64_C(1) << (idx & 63);
		int seen = 0;

		for (uint32_t j = 0; j < d->prev_n && !seen; j++)
			seen = same_dup(&d->prev[j], &d->cur[i]);
		if (!seen || d->reported == NULL || (d->reported[idx >> 6] & bit))
			continue;
		d->reported[idx >> 6] |= bit;
		mpa_error_found(MPA_ERR_DOUBLE_FREE, p->mp->name,
				p->addrs[idx], d->cur[i].lcore);
	}
	memcpy(d->prev, d->cur, d->n * sizeof(d->cur[0]));
	d->prev_n = d->n;
	d->n = 0;
}
