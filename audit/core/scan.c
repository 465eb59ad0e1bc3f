/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_ethdev.h>
#include <rte_prefetch.h>
#include <rte_string_fns.h>

#include "classify.h"
#include "clock.h"
#include "driver.h"
#include "fault.h"
#include "history.h"
#include "holder.h"
#include "log.h"
#include "objhist.h"
#include "ring.h"
#include "scan.h"
#include "sites.h"

/* How far ahead the object walk prefetches stamps. */
#define MPA_SCAN_PREFETCH 8

static struct mpa_scan_result result;
static struct mpa_scan_stats stats;

/* Objects seen in watched rings at this scan, sorted by address. */
struct ring_hit {
	uintptr_t obj;
	const struct rte_ring *ring;
};
static struct ring_hit *hits;
static uint32_t nhits, hits_cap;

/* Expected driver holdings per pool, refreshed at every scan. */
static struct mpa_drv_expect expect[MPA_POOLS_MAX];
static uint32_t nexpect;

static void
collect_hit(const struct rte_ring *r, void *obj, void *arg)
{
	if (nhits == hits_cap) {
		uint32_t cap = hits_cap != 0 ? hits_cap * 2 : 1024;
		struct ring_hit *h = realloc(hits, cap * sizeof(*h));

		if (h == NULL)
			return; /* the object keeps its stamp's holder */
		hits = h;
		hits_cap = cap;
	}
	hits[nhits].obj = (uintptr_t)obj;
	hits[nhits].ring = r;
	nhits++;
}

static int
hit_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const struct ring_hit *)a)->obj;
	uintptr_t y = ((const struct ring_hit *)b)->obj;

	return x < y ? -1 : x > y;
}

static const struct rte_ring *
ring_of(uintptr_t obj)
{
	uint32_t lo = 0, hi = nhits;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (hits[mid].obj < obj)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nhits && hits[lo].obj == obj ? hits[lo].ring : NULL;
}

static void
collect_ring_hits(void)
{
	nhits = 0;
	mpa_ring_foreach_obj(collect_hit, NULL);
	if (nhits > 1)
		qsort(hits, nhits, sizeof(*hits), hit_cmp);
}

static const struct mpa_drv_expect *
driver_expectation(const struct rte_mempool *mp)
{
	for (uint32_t i = 0; i < nexpect; i++)
		if (expect[i].mp == mp)
			return &expect[i];
	return NULL;
}

/*
 * Held objects in a watched ring are the ring's, whatever their stamp says,
 * except objects handed to tx_burst: a driver's TX ring (net_ring) holds
 * those. A stamp that already names this ring keeps its call site.
 */
static uint32_t
ring_holder(uint64_t s, const struct rte_ring *r)
{
	const struct mpa_holder_ent *h = mpa_holder_get(mpa_stamp_holder(s));

	if (h != NULL && h->state == MPA_ST_RING && h->ring == r)
		return mpa_stamp_holder(s);
	return mpa_holder_intern(MPA_ST_RING, NULL, UINT16_MAX, UINT16_MAX, r);
}

/*
 * Segments of a stuck chain. A driver that receives a frame larger than
 * one buffer (net_pcap, most NICs with scatter RX) takes the further
 * segments from the pool itself: nothing stamps them, so alone they look
 * like RX descriptors (pmd). The head mbuf's holder holds them all; the
 * heads are noted in the pass and their segments moved after it.
 */
struct chain_head {
	uint32_t idx;
	int32_t age_ms;
	int new_stuck;
	struct mpa_group_key key;
};

/* Heads noted per scan of one pool; beyond that segments stay pmd. */
#define MPA_CHAIN_HEADS_MAX 1024

/* Scans run under the registry lock, one at a time. */
static struct chain_head heads[MPA_CHAIN_HEADS_MAX];

/* Drop @p addr from the pmd group's samples, if it is one. */
static void
drop_sample(struct mpa_group *pmd, uintptr_t addr)
{
	for (uint32_t k = 0; k < pmd->nsamples; k++) {
		if (pmd->samples[k] != addr)
			continue;
		pmd->nsamples--;
		pmd->samples[k] = pmd->samples[pmd->nsamples];
		pmd->nprev[k] = pmd->nprev[pmd->nsamples];
		memcpy(pmd->prev[k], pmd->prev[pmd->nsamples],
		       sizeof(pmd->prev[k]));
		return;
	}
}

/*
 * The previous holders of the samples of this pool's groups, from the
 * history words behind their stamps (MPAUDIT_HISTORY). Read once the walk
 * is done, for a few objects per group: a stuck object is not moving, and
 * one whose stamp changed while its words were read has moved on and
 * keeps none. Only words behind a stamp are read, so side-table pools
 * have no history.
 */
static void
note_prev(const struct mpa_pool *p, uint32_t pool_idx, struct mpa_groups *g,
	  uint32_t now)
{
	uint64_t words[MPA_OBJHIST_CAP];
	struct mpa_objhist_in in = {
		.words = words,
		.nwords = mpa_objhist_k,
		.now_ms = now,
		.since_ms = p->attach_ms,
		.nholders = mpa_holder_count(),
	};

	if (in.nwords > MPA_OBJHIST_MAX)
		in.nwords = MPA_OBJHIST_MAX;
	for (uint32_t i = 0; i < g->n; i++) {
		struct mpa_group *gr = &g->v[i];

		if (gr->key.pool != pool_idx)
			continue;
		in.holder = gr->key.holder;
		in.lcore = gr->key.lcore;
		for (uint32_t s = 0; s < gr->nsamples; s++) {
			const volatile uint64_t *slot =
				mpa_stamp_slot((void *)gr->samples[s]);

			in.stamp = slot[0];
			for (uint32_t w = 0; w < in.nwords; w++)
				words[w] = slot[1 + w];
			gr->nprev[s] = slot[0] != in.stamp ? 0 :
				(uint8_t)mpa_objhist_decode(&in, gr->prev[s],
							    in.nwords);
		}
	}
}

/*
 * Move the segments of each noted head out of the pmd group into the
 * head's. Stuck heads are not being touched by their holder, so their
 * next pointers are stable; each is still checked to be an object of this
 * pool, and at most nb_segs - 1 are followed. @return objects moved.
 */
static uint32_t
claim_segments(struct mpa_pool *p, const struct chain_head *h, uint32_t nh,
	       struct mpa_group *pmd, struct mpa_groups *g)
{
	uint32_t moved = 0;

	for (uint32_t k = 0; k < nh; k++) {
		const struct rte_mbuf *m = (const void *)p->addrs[h[k].idx];
		uint16_t left = m->nb_segs;

		while (--left != 0 && (m = m->next) != NULL) {
			int64_t j = mpa_locator_find(&p->loc, (uintptr_t)m);
			struct mpa_objstate *os;

			if (j < 0)
				break;
			os = &p->st[j];
			if (!(os->flags & MPA_OS_PMD_STUCK))
				continue;
			os->flags &= ~MPA_OS_PMD_STUCK;
			pmd->count--;
			if ((os->flags & MPA_OS_PMD_NEW) && pmd->new_count != 0)
				pmd->new_count--;
			drop_sample(pmd, (uintptr_t)m);
			mpa_groups_add(g, &h[k].key, h[k].age_ms, (uintptr_t)m,
				       h[k].new_stuck);
			moved++;
		}
	}
	return moved;
}

static void
scan_pool(struct mpa_pool *p, uint32_t pool_idx, uint32_t now,
	  uint32_t stuck_ms, struct mpa_result_pool *rp, struct mpa_groups *g,
	  int count_sites)
{
	uint32_t nfree = mpa_pool_snapshot_free(p);
	uint32_t stuck = 0, held = 0, prev = p->last_scan_ms;
	const struct mpa_drv_expect *de = driver_expectation(p->mp);
	struct mpa_group pmd = { .key = { .pool = pool_idx,
					  .lcore = MPA_LCORE_NONE,
					  .state = MPA_ST_PMD } };
	uint32_t nheads = 0;

	for (uint32_t i = 0; i < p->size; i++) {
		int is_free = (p->freemap[i >> 6] >> (i & 63)) & 1;
		struct mpa_class c;
		uint64_t s;

		/* Free objects' stamps are not needed: no cache miss for them. */
		if (is_free && p->have_free_set) {
			if (p->st[i].held_scans != 0 ||
			    !(p->st[i].flags & MPA_OS_WAS_FREE))
				mpa_classify(&p->st[i], 1, 1, 0, MPA_ST_NONE,
					     now, stuck_ms, &c);
			continue;
		}
		if (p->stamp_off != MPA_STAMP_OFF_SIDE &&
		    i + MPA_SCAN_PREFETCH < p->size)
			rte_prefetch0(mpa_stamp_at(
				(void *)p->addrs[i + MPA_SCAN_PREFETCH],
				p->stamp_off));
		s = mpa_pool_stamp(p, i);
		/* Free at the previous scan: that scan's time, see classify.h. */
		if (p->st[i].flags & MPA_OS_WAS_FREE)
			p->st[i].since = prev;
		mpa_classify(&p->st[i], is_free, p->have_free_set, s,
			     mpa_holder_state(mpa_stamp_holder(s)), now,
			     stuck_ms, &c);
		p->st[i].flags &= ~(MPA_OS_PMD_STUCK | MPA_OS_PMD_NEW);
		if (c.verdict == MPA_V_FREE)
			continue;
		held++;
		if (c.verdict == MPA_V_HELD) {
			if (count_sites)
				mpa_sites_add(mpa_stamp_holder(s), c.age_ms, 0);
			continue;
		}
		struct mpa_group_key key = {
			.pool = pool_idx,
			.holder = mpa_stamp_holder(s),
			.lcore = (uint8_t)mpa_stamp_lcore(s),
			.state = c.state,
		};
		const struct rte_ring *r = nhits != 0 ? ring_of(p->addrs[i]) : NULL;

		if (r != NULL && c.state != MPA_ST_TX) {
			key.state = MPA_ST_RING;
			key.holder = ring_holder(s, r);
		} else if (c.state == MPA_ST_PMD) {
			/*
			 * Counted against the pool's RX descriptors below;
			 * which of them are the excess is not known, so for
			 * the sites they are held, not stuck.
			 */
			if (count_sites)
				mpa_sites_add(key.holder, c.age_ms, 0);
			pmd.count++;
			p->st[i].flags |= MPA_OS_PMD_STUCK;
			if (c.verdict == MPA_V_STUCK_NEW) {
				pmd.new_count++;
				p->st[i].flags |= MPA_OS_PMD_NEW;
			}
			if (c.age_ms > pmd.max_age_ms)
				pmd.max_age_ms = c.age_ms;
			if (pmd.nsamples < MPA_GROUP_SAMPLES)
				pmd.samples[pmd.nsamples++] = p->addrs[i];
			continue;
		} else if (c.state == MPA_ST_UNKNOWN) {
			key.holder = 0; /* not the stamp's doing */
			key.lcore = MPA_LCORE_NONE;
		}
		if (count_sites)
			mpa_sites_add(key.holder, c.age_ms, 1);
		mpa_groups_add(g, &key, c.age_ms, p->addrs[i],
			       c.verdict == MPA_V_STUCK_NEW);
		stuck++;
		/* nb_segs is on the mbuf's first line, a miss the scan
		 * otherwise avoids: read only for stuck objects, which are
		 * few. */
		if (p->is_mbuf && nheads < MPA_CHAIN_HEADS_MAX &&
		    ((const struct rte_mbuf *)p->addrs[i])->nb_segs > 1)
			heads[nheads++] = (struct chain_head){
				.idx = i, .age_ms = c.age_ms,
				.new_stuck = c.verdict == MPA_V_STUCK_NEW,
				.key = key };
	}
	if (nheads != 0 && pmd.count != 0)
		stuck += claim_segments(p, heads, nheads, &pmd, g);

	/*
	 * Driver holdings up to the configured RX descriptors are expected;
	 * only the excess is reported, on the RX queue when the pool feeds
	 * exactly one.
	 */
	rp->driver_held = pmd.count;
	rp->driver_expected = de != NULL ? de->desc : 0;
	if (pmd.count > rp->driver_expected) {
		uint32_t excess = pmd.count - rp->driver_expected;

		if (de != NULL && de->nqueues == 1)
			pmd.key.holder = mpa_holder_intern(MPA_ST_PMD, NULL,
							   de->port, de->queue,
							   NULL);
		pmd.count = excess;
		if (pmd.new_count > excess)
			pmd.new_count = excess;
		if (pmd.nsamples > excess)
			pmd.nsamples = excess;
		mpa_groups_merge(g, &pmd.key, &pmd);
		stuck += excess;
	}
	if (mpa_objhist_k != 0 && p->header_stamp)
		note_prev(p, pool_idx, g, now);
	/* Without a free set, "free" means "not seen held". */
	if (!p->have_free_set)
		nfree = p->size - held;
	p->last_scan_ms = now;
	p->nfree = nfree;
	p->in_use = p->size - nfree;
	p->stuck = stuck;
	rte_strscpy(rp->name, p->name, sizeof(rp->name));
	rp->size = p->size;
	rp->in_use = p->in_use;
	rp->nfree = p->nfree;
	rp->stuck = stuck;
	rp->stamp_where = mpa_pool_stamp_where(p);
	rp->have_free_set = p->have_free_set;
	rp->objhist = p->header_stamp ? mpa_objhist_k : 0;
}

/*
 * Pools destroyed while the auditor ran keep the result of a last scan made
 * just before they went (applications often free their pools before
 * rte_eal_cleanup, so the final report would otherwise not see them). A
 * pool created again under the same name replaces its earlier row.
 */
struct retired_pool {
	struct mpa_result_pool row;
	struct mpa_groups groups;  /* key.pool is 0: re-keyed when added */
};
static struct retired_pool retired[MPA_RETIRED_MAX];
static uint32_t nretired;

static void
add_retired(void)
{
	for (uint32_t i = 0; i < nretired; i++) {
		const struct retired_pool *rp = &retired[i];
		uint32_t idx = result.npools++;

		result.pools[idx] = rp->row;
		result.stuck += rp->row.stuck;
		for (uint32_t k = 0; k < rp->groups.n; k++) {
			const struct mpa_group *gr = &rp->groups.v[k];
			struct mpa_group_key key = gr->key;

			key.pool = idx;
			struct mpa_group old = *gr;

			/* Stuck objects were logged at retirement: not new. */
			old.new_count = 0;
			mpa_groups_merge(&result.groups, &key, &old);
		}
	}
}

/* Threshold for scans not started by the scanner (0: auditor stopped). */
static uint32_t retire_stuck_ms;
static uint32_t history_scans = MPA_DEFAULT_HISTORY_SCANS;
static mpa_scan_new_cb_t on_new;

void
mpa_scan_configure(uint32_t stuck_ms, mpa_scan_new_cb_t cb)
{
	retire_stuck_ms = stuck_ms;
	on_new = cb;
}

void
mpa_scan_retire_locked(struct mpa_pool *p)
{
	uint32_t stuck_ms = retire_stuck_ms;

	struct retired_pool *rp = NULL;
	struct mpa_result_pool row;
	struct mpa_groups g = { 0 };
	struct mpa_scan_result one;
	uint32_t now;

	if (stuck_ms == 0)
		return;
	for (uint32_t i = 0; i < nretired && rp == NULL; i++)
		if (strcmp(retired[i].row.name, p->name) == 0)
			rp = &retired[i];
	if (rp == NULL) {
		if (nretired == MPA_RETIRED_MAX)
			return; /* the report says only what it can keep */
		rp = &retired[nretired++];
		memset(rp, 0, sizeof(*rp));
	}
	collect_ring_hits();
	nexpect = mpa_driver_expectations(expect, MPA_POOLS_MAX);
	/* Confirmed like the final report: two scans back to back. */
	for (int i = 0; i < MPA_CONFIRM_SCANS; i++) {
		now = mpa_clock_update();
		mpa_groups_reset(&g);
		memset(&row, 0, sizeof(row));
		scan_pool(p, 0, now, stuck_ms, &row, &g, 0);
	}
	row.destroyed = 1;
	mpa_groups_free(&rp->groups);
	rp->row = row;
	rp->groups = g;
	if (g.n != 0) {
		memset(&one, 0, sizeof(one));
		one.npools = 1;
		one.pools[0] = row;
		one.groups = g;
		MPA_LOG(WARNING, "pool %s destroyed with %u stuck objects",
			p->name, row.stuck);
		if (on_new != NULL)
			on_new(&one);
	}
}

void
mpa_scan_set_history(uint32_t scans)
{
	history_scans = scans;
}

/*
 * Append this scan to the pool's history and judge it. The ring is
 * allocated on the first sample; if that fails the pool goes without
 * history (and forecast), said once, and the scan goes on.
 */
static void
note_history(struct mpa_pool *p, struct mpa_result_pool *rp, uint32_t now)
{
	struct mpa_hist_sample s = {
		.t_ms = now,
		.in_use = rp->in_use,
		.stuck = rp->stuck,
		.driver_held = rp->driver_held,
		.nfree = rp->nfree,
	};

	if (history_scans == 0 || p->hist_failed) {
		mpa_forecast(&(struct mpa_history){ 0 }, p->size, &rp->forecast);
		return;
	}
	if (mpa_fault(MPA_FAULT_HISTORY) ||
	    mpa_history_add(&p->hist, history_scans, &s) != 0) {
		p->hist_failed = 1;
		MPA_LOG(WARNING, "pool %s: no memory for %u scans of history; no drain forecast for it",
			p->name, history_scans);
	}
	mpa_forecast(&p->hist, p->size, &rp->forecast);
}

/* Count held objects per holder at this scan; without memory, say it once. */
static void
sites_begin(void)
{
	static int said;

	if ((!mpa_fault(MPA_FAULT_SITES) &&
	     mpa_sites_begin(mpa_holder_count()) == 0) || said)
		return;
	said = 1;
	MPA_LOG(WARNING, "no memory to count held objects per holder; no sites ranking");
}

int
mpa_scan_locked(uint32_t stuck_ms)
{
	uint64_t t0 = mpa_clock_ns(), dt, objects = 0;
	uint32_t now = mpa_clock_update();

	mpa_groups_reset(&result.groups);
	result.npools = 0;
	result.stuck = 0;
	result.new_stuck = 0;
	result.now_ms = now;
	result.stuck_ms = stuck_ms;
	result.objhist_k = mpa_objhist_k;
	collect_ring_hits();
	nexpect = mpa_driver_expectations(expect, MPA_POOLS_MAX);
	sites_begin();
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = mpa_pool_slot(i);
		struct mpa_result_pool *rp;

		if (p == NULL)
			continue;
		rp = &result.pools[result.npools];
		memset(rp, 0, sizeof(*rp));
		scan_pool(p, result.npools, now, stuck_ms, rp, &result.groups, 1);
		note_history(p, rp, now);
		result.stuck += rp->stuck;
		objects += p->size;
		result.npools++;
	}
	mpa_sites_end(&result.sites);
	add_retired();
	mpa_groups_sort(&result.groups);
	for (uint32_t i = 0; i < result.groups.n; i++)
		result.new_stuck += result.groups.v[i].new_count;
	result.valid = 1;

	dt = mpa_clock_ns() - t0;
	stats.scans++;
	stats.objects += objects;
	stats.total_ns += dt;
	stats.last_ns = dt;
	if (dt > stats.max_ns)
		stats.max_ns = dt;

	if (result.new_stuck != 0 && on_new != NULL)
		on_new(&result);
	return (int)result.stuck;
}

void
mpa_scan_note_runner(int by_service)
{
	stats.last_by_service = by_service;
	if (by_service)
		stats.service_scans++;
}

const struct mpa_scan_result *
mpa_scan_result(void)
{
	return &result;
}

const struct mpa_scan_stats *
mpa_scan_stats(void)
{
	return &stats;
}

void
mpa_scan_reset(void)
{
	mpa_groups_free(&result.groups);
	memset(&result, 0, sizeof(result));
	for (uint32_t i = 0; i < nretired; i++)
		mpa_groups_free(&retired[i].groups);
	nretired = 0;
	mpa_sites_free();
	free(hits);
	hits = NULL;
	nhits = hits_cap = 0;
	memset(&stats, 0, sizeof(stats));
}

/*
 * Which objects the latest scan judged stuck, and whose they are, as the
 * scan grouped them: from the scanner's memory of each object (held for
 * MPA_CONFIRM_SCANS scans with one stamp, since long enough), not from
 * the groups, which keep only a few samples. Driver holdings are left
 * out: which of them are the excess is not known.
 */
uint32_t
mpa_scan_foreach_stuck_locked(mpa_stuck_fn_t fn, void *arg)
{
	uint32_t n = 0;

	if (!result.valid)
		return 0;
	for (unsigned int pi = 0; pi < MPA_POOLS_MAX; pi++) {
		const struct mpa_pool *p = mpa_pool_slot(pi);

		if (p == NULL || p->st == NULL)
			continue;
		for (uint32_t i = 0; i < p->size; i++) {
			const struct mpa_objstate *os = &p->st[i];
			uint64_t s = os->stamp;
			uint8_t ss = mpa_holder_state(mpa_stamp_holder(s));
			struct mpa_stuck_obj o;
			const struct rte_ring *r;
			int32_t age;

			if (os->held_scans < MPA_CONFIRM_SCANS ||
			    (p->have_free_set &&
			     ((p->freemap[i >> 6] >> (i & 63)) & 1)))
				continue;
			age = mpa_age_ms(result.now_ms, os->since);
			if (age < 0 || (uint32_t)age < result.stuck_ms)
				continue;
			if ((os->flags & MPA_OS_TAKEN) || ss == MPA_ST_FREE ||
			    ss == MPA_ST_PMD)
				continue;
			o.key.pool = pi;
			o.key.holder = mpa_stamp_holder(s);
			o.key.lcore = (uint8_t)mpa_stamp_lcore(s);
			o.key.state = ss;
			if (ss != MPA_ST_APP && ss != MPA_ST_RX && ss != MPA_ST_TX &&
			    ss != MPA_ST_RING) {
				o.key.state = MPA_ST_UNKNOWN;
				o.key.holder = 0;
				o.key.lcore = MPA_LCORE_NONE;
			}
			r = nhits != 0 ? ring_of(p->addrs[i]) : NULL;
			if (r != NULL && o.key.state != MPA_ST_TX) {
				o.key.state = MPA_ST_RING;
				o.key.holder = ring_holder(s, r);
			}
			o.pool = p;
			o.idx = i;
			o.obj = (void *)p->addrs[i];
			o.age_ms = (uint32_t)age;
			fn(&o, arg);
			n++;
		}
	}
	return n;
}
