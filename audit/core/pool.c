/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mbuf_dyn.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_string_fns.h>

#include "guard.h"
#include "clock.h"
#include "fault.h"
#include "log.h"
#include "pool.h"
#include "ring.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read without the lock by the datapath slow paths: atomic loads. */
static struct mpa_pool *slots[MPA_POOLS_MAX];
static uint32_t slots_hwm;       /* slots ever used: lookups stop there */
static struct mpa_pool *retired;
static const struct mpa_pool_ext_ops *ext_ops;
volatile uint32_t mpa_nohdr_pools;
int32_t mpa_mbuf_stamp_off = -MPA_STAMP_BACK;
static int events_on;
static mpa_pool_destroy_cb_t on_destroy;

void
mpa_registry_lock(void)
{
	pthread_mutex_lock(&registry_lock);
}

void
mpa_registry_unlock(void)
{
	pthread_mutex_unlock(&registry_lock);
}

struct mpa_pool *
mpa_pool_slot(unsigned int i)
{
	return i < MPA_POOLS_MAX ? slots[i] : NULL;
}

static void
pool_free(struct mpa_pool *p)
{
	if (p == NULL)
		return;
	if (p->ext != NULL && p->ext_free != NULL)
		p->ext_free(p->ext);
	mpa_locator_free(&p->loc);
	free(p->addrs);
	free(p->side);
	free(p->st);
	free(p->freemap);
	free(p->dups.reported);
	mpa_history_free(&p->hist);
	free(p);
}

struct addr_walk {
	uintptr_t *addrs;
	uint32_t n;
	uint32_t cap;
};

static void
collect_obj(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	struct addr_walk *w = arg;

	if (w->n < w->cap)
		w->addrs[w->n++] = (uintptr_t)obj;
}

static int
addr_cmp(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

int
mpa_pool_addrs(struct rte_mempool *mp, uintptr_t **out)
{
	struct addr_walk w = { .cap = mp->size };

	*out = NULL;
	w.addrs = malloc(sizeof(*w.addrs) * w.cap);
	if (w.addrs == NULL)
		return -ENOMEM;
	rte_mempool_obj_iter(mp, collect_obj, &w);
	if (w.n != mp->size) {
		free(w.addrs);
		return -EINVAL;
	}
	/* obj_iter walks memory chunks in list order, not address order. */
	for (uint32_t i = 1; i < w.n; i++) {
		if (w.addrs[i] <= w.addrs[i - 1]) {
			qsort(w.addrs, w.n, sizeof(*w.addrs), addr_cmp);
			break;
		}
	}
	*out = w.addrs;
	return 0;
}

/* Only ring-based pools expose their free objects in a form we can read. */
/* Where a pool being attached keeps its stamps, asked once (stamp.h). */
static int32_t
stamp_off_decide(const struct rte_mempool *mp, int is_mbuf)
{
	if (mpa_mbuf_stamp_off >= 0 && is_mbuf)
		return mpa_mbuf_stamp_off;
	return mpa_mp_pad_off(mp);
}

/*
 * A pool that is not audited is never stamped inside its objects: its
 * header pad, or nothing (mpa_stamp_side() finds no table).
 */
int32_t
mpa_stamp_off_of(const struct rte_mempool *mp)
{
	const struct mpa_pool *p = mpa_pool_find(mp);

	if (p != NULL)
		return p->stamp_off;
	return mpa_mp_pad_off(mp);
}

/*
 * Counted in mpa_nohdr_pools: a pool whose objects, were they mbufs, would
 * not be stamped at mpa_mbuf_stamp_off.
 * - Without the dynamic field: a pool without header room, counted from
 *   its READY event to its DESTROY whether or not it is audited, because
 *   a stamp 64 bytes before its object would land in the object before.
 * - With it: an audited pool that could hold mbufs (rte_pktmbuf_pool_init()
 *   needs the private data, an mbuf the size) whose stamps are elsewhere,
 *   counted while it is attached (p->nohdr_counted). Writing the field of
 *   an mbuf of a pool that is not audited harms nothing: the field is
 *   ours in every mbuf.
 */
static int
nohdr_unaudited(const struct rte_mempool *mp)
{
	return mpa_mbuf_stamp_off < 0 && mp->header_size < MPA_STAMP_BACK;
}

/*
 * The part of mpa_nohdr_pools counted from mempool events: changed by
 * the event callback (under the registry lock) and by
 * mpa_pool_events_stop() once the callback is gone.
 */
static uint32_t nohdr_events;

static void
nohdr_events_add(int32_t d)
{
	nohdr_events += d;
	__atomic_fetch_add(&mpa_nohdr_pools, d, __ATOMIC_SEQ_CST);
}

static int
nohdr_audited(const struct mpa_pool *p)
{
	const struct rte_mempool *mp = p->mp;

	return mpa_mbuf_stamp_off >= 0 &&
	       mp->private_data_size >= sizeof(struct rte_pktmbuf_pool_private) &&
	       mp->elt_size >= sizeof(struct rte_mbuf) &&
	       p->stamp_off != mpa_mbuf_stamp_off;
}

/*
 * The stamp of mbufs goes to a dynamic field of our own, on the mbuf's
 * second line, unless history is kept (its words are in the header pad,
 * next to the stamp), the memory is not hugepages, or no room is left.
 * The field is asked for at the end of the dynamic area, so that what it
 * leaves to the application is one free run, not two.
 */
static void
stamp_field_init(void)
{
	static const struct rte_mbuf_dynfield desc = {
		.name = "mpaudit_stamp",
		.size = sizeof(uint64_t),
		.align = __alignof__(uint64_t),
	};
	size_t last = RTE_ALIGN_FLOOR(sizeof(struct rte_mbuf) - sizeof(uint64_t),
				      sizeof(uint64_t));
	int off;

	/*
	 * Without hugepages every object starts a 4 KiB page of its own, so
	 * the mbufs' second lines all compete for one L1 set, and a stamp
	 * there costs more than the pad's line (io 0.86 of plain against
	 * 0.93, docs/performance.md).
	 */
	if (mpa_objhist_k != 0 || !rte_eal_has_hugepages()) {
		mpa_mbuf_stamp_off = -MPA_STAMP_BACK;
		return;
	}
	if (mpa_fault(MPA_FAULT_DYNFIELD)) {
		off = -1;
		rte_errno = ENOENT;
	} else {
		off = rte_mbuf_dynfield_lookup(desc.name, NULL);
		if (off < 0)
			off = rte_mbuf_dynfield_register_offset(&desc, last);
		if (off < 0)
			off = rte_mbuf_dynfield_register(&desc);
	}
	if (off < 0) {
		/* ENOENT is how rte_mbuf_dyn says the mbuf is full. */
		MPA_LOG(NOTICE, "no room for an mbuf dynamic field (%s): mbufs are stamped in their header pad",
			rte_errno == ENOENT ? "no room left in the mbuf" :
			rte_strerror(rte_errno));
		mpa_mbuf_stamp_off = -MPA_STAMP_BACK;
		return;
	}
	mpa_mbuf_stamp_off = off;
}

int
mpa_pool_ops_is_ring(const struct rte_mempool *mp)
{
	const struct rte_mempool_ops *ops = rte_mempool_get_ops(mp->ops_index);

	return ops != NULL && strncmp(ops->name, "ring_", 5) == 0 &&
	       mp->pool_data != NULL;
}

int
mpa_pool_attach_locked(struct rte_mempool *mp, int fresh)
{
	struct mpa_pool *p = NULL;
	int slot = -1, rc;

	if (mp == NULL || mp->size == 0 || mp->populated_size < mp->size)
		return -EINVAL;
	for (int i = 0; i < MPA_POOLS_MAX; i++) {
		if (slots[i] != NULL && slots[i]->mp == mp)
			return 0;
		if (slots[i] == NULL && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		MPA_LOG(WARNING, "cannot attach pool %s: already auditing %d pools",
			mp->name, MPA_POOLS_MAX);
		return -ENOSPC;
	}

	rc = -ENOMEM;
	p = calloc(1, sizeof(*p));
	if (p == NULL || mpa_fault(MPA_FAULT_POOL_TABLE))
		goto err;
	p->mp = mp;
	rte_strscpy(p->name, mp->name, sizeof(p->name));
	p->size = mp->size;
	p->is_mbuf = mpa_mp_is_mbuf(mp);
	p->stamp_off = stamp_off_decide(mp, p->is_mbuf);
	p->header_stamp = p->stamp_off == -MPA_STAMP_BACK;
	p->have_free_set = mpa_pool_ops_is_ring(mp);
	p->st = calloc(p->size, sizeof(*p->st));
	p->freemap = calloc((p->size + 63) / 64, sizeof(uint64_t));
	p->dups.reported = calloc((p->size + 63) / 64, sizeof(uint64_t));
	if (p->stamp_off == MPA_STAMP_OFF_SIDE)
		p->side = calloc(p->size, sizeof(*p->side));
	if (p->st == NULL || p->freemap == NULL || p->dups.reported == NULL ||
	    (p->stamp_off == MPA_STAMP_OFF_SIDE && p->side == NULL))
		goto err;

	rc = mpa_pool_addrs(mp, &p->addrs);
	if (rc != 0)
		goto err;
	rc = mpa_locator_build(&p->loc, p->addrs, p->size);
	if (rc != 0)
		goto err;

	/*
	 * A new pool's header pads hold whatever the memory held before.
	 * Every object of a just-populated pool is free, so it gets the bare
	 * "free" stamp: one later found held with that stamp was taken by
	 * code that stamps nothing (state pmd). A pool attached while in use
	 * keeps its stamps: rewriting them would race with the datapath.
	 * An mbuf pool's stamps are in the mbufs, which rte_pktmbuf_init()
	 * clears after this event: there 0 stands for the bare free stamp
	 * (mpa_pool_stamp()), and nothing is written.
	 */
	p->attach_ms = mpa_clock_ms;
	p->bare_free = mpa_stamp_make(MPA_HOLDER_FREE, MPA_LCORE_NONE,
				      p->attach_ms);
	if (fresh && p->stamp_off < 0) {
		/* History words too: 0 is "never written" to the scanner. */
		size_t hist = mpa_objhist_k != 0 ? MPA_OBJHIST_MAX : 0;

		for (uint32_t i = 0; i < p->size; i++) {
			uint64_t *slot = mpa_stamp_slot((void *)p->addrs[i]);

			if (p->header_stamp) {
				*slot = p->bare_free;
				memset(slot + 1, 0, hist * sizeof(*slot));
			} else {
				p->side[i] = p->bare_free;
			}
		}
	}

	if (ext_ops != NULL) {
		p->ext = ext_ops->attach(p, fresh);
		p->ext_free = ext_ops->free;
	}
	/* Before its first object can be stamped: see nohdr_audited(). */
	p->nohdr_counted = nohdr_audited(p);
	if (p->nohdr_counted)
		__atomic_fetch_add(&mpa_nohdr_pools, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&slots[slot], p, __ATOMIC_RELEASE);
	if ((uint32_t)slot >= slots_hwm)
		__atomic_store_n(&slots_hwm, (uint32_t)slot + 1,
				 __ATOMIC_RELEASE);
	MPA_LOG(DEBUG, "auditing pool %s: %u objects, %u runs, stamps in %s, free set from %s",
		p->name, p->size, p->loc.nruns, mpa_pool_stamp_where(p),
		p->have_free_set ? "ring+caches" : "stamps");
	return 0;
err:
	MPA_LOG(WARNING, "cannot attach pool %s: %s; the pool is not audited",
		mp->name, strerror(-rc));
	pool_free(p);
	return rc;
}

int
mpa_pool_attach(struct rte_mempool *mp)
{
	int rc;

	mpa_registry_lock();
	rc = mpa_pool_attach_locked(mp, 0);
	mpa_registry_unlock();
	return rc;
}

static int
detach_locked(struct rte_mempool *mp)
{
	for (int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = slots[i];

		if (p == NULL || p->mp != mp)
			continue;
		__atomic_store_n(&slots[i], NULL, __ATOMIC_RELEASE);
		if (p->nohdr_counted)
			__atomic_fetch_sub(&mpa_nohdr_pools, 1, __ATOMIC_SEQ_CST);
		p->retire_ms = mpa_clock_read();
		p->next_retired = retired;
		retired = p;
		return 0;
	}
	return -ENOENT;
}

int
mpa_pool_detach(struct rte_mempool *mp)
{
	int rc;

	mpa_registry_lock();
	rc = detach_locked(mp);
	mpa_registry_unlock();
	return rc;
}

void
mpa_pool_reap(uint32_t now, int all)
{
	struct mpa_pool **pp = &retired;

	while (*pp != NULL) {
		struct mpa_pool *p = *pp;

		if (all || mpa_age_ms(now, p->retire_ms) >= (int32_t)MPA_POOL_RETIRE_MS) {
			*pp = p->next_retired;
			pool_free(p);
		} else {
			pp = &p->next_retired;
		}
	}
}

void
mpa_pool_detach_all(void)
{
	for (int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = slots[i];

		if (p != NULL)
			detach_locked(p->mp);
	}
}

/*
 * Mempool events arrive in the thread that creates or frees the pool. A
 * DESTROY waits here for a running scan to finish, so the scanner never
 * reads a pool that is being freed.
 */
static void
pool_event(enum rte_mempool_event ev, struct rte_mempool *mp, void *arg)
{
	int nohdr = nohdr_unaudited(mp);

	/* The application's thread, the auditor's allocations. */
	mpa_guard_enter();
	mpa_registry_lock();
	if (ev == RTE_MEMPOOL_EVENT_READY) {
		/* Counted even if the attach fails: see mpa_nohdr_pools. */
		if (nohdr)
			nohdr_events_add(1);
		mpa_pool_attach_locked(mp, 1);
	} else if (ev == RTE_MEMPOOL_EVENT_DESTROY) {
		for (int i = 0; i < MPA_POOLS_MAX; i++)
			if (slots[i] != NULL && slots[i]->mp == mp)
				if (on_destroy != NULL)
					on_destroy(slots[i]);
		detach_locked(mp);
		if (nohdr)
			nohdr_events_add(-1);
	}
	mpa_registry_unlock();
	mpa_guard_leave();
}

static void
attach_existing(struct rte_mempool *mp, void *arg)
{
	if (nohdr_unaudited(mp))
		nohdr_events_add(1);
	if (mp->populated_size == mp->size)
		mpa_pool_attach_locked(mp, 0);
}

int
mpa_pool_events_start(mpa_pool_destroy_cb_t cb)
{
	int rc;

	if (events_on)
		return 0;
	/* Before any pool is counted or attached: both depend on it. */
	stamp_field_init();
	on_destroy = cb;
	rc = rte_mempool_event_callback_register(pool_event, NULL);
	if (rc != 0) {
		MPA_LOG(ERR, "cannot follow mempool creation: %s",
			rte_strerror(rte_errno));
		return -rte_errno;
	}
	events_on = 1;
	mpa_registry_lock();
	rte_mempool_walk(attach_existing, NULL);
	mpa_registry_unlock();
	return 0;
}

void
mpa_pool_events_stop(void)
{
	if (!events_on)
		return;
	rte_mempool_event_callback_unregister(pool_event, NULL);
	events_on = 0;
	/*
	 * No DESTROY will come for them; attached pools uncount at detach.
	 * Called with or without the registry lock, once no event can come.
	 */
	nohdr_events_add(-(int32_t)nohdr_events);
}

/* @p lcore: the cache @p obj was read from (at @p slot), -1 for the ring. */
static inline void
mark_free(struct mpa_pool *p, void *obj, uint32_t *nfree, int lcore,
	  uint32_t slot)
{
	int64_t idx = mpa_locator_find(&p->loc, (uintptr_t)obj);
	uint64_t bit;

	if (idx < 0)
		return;
	bit = UINT64_C(1) << (idx & 63);
	if (!(p->freemap[idx >> 6] & bit)) {
		p->freemap[idx >> 6] |= bit;
		(*nfree)++;
	} else {
		/* Free twice, or moving while the free set is read. */
		mpa_dups_note(&p->dups, idx, lcore, slot,
			      mpa_pool_stamp(p, (uint32_t)idx));
	}
}

uint32_t
mpa_pool_snapshot_free(struct mpa_pool *p)
{
	struct rte_mempool *mp = p->mp;
	uint32_t nfree = 0;

	memset(p->freemap, 0, ((p->size + 63) / 64) * sizeof(uint64_t));

	/*
	 * Caches first, then the ring: a cache flush moves objects into the
	 * ring, so an object in flight between the two is more likely seen in
	 * one of them. Races remain (the datapath runs on); the classifier
	 * needs an object held in MPA_CONFIRM_SCANS consecutive scans with an
	 * unchanged stamp before it calls it stuck.
	 */
	if (mp->cache_size != 0) {
		for (unsigned int l = 0; l < RTE_MAX_LCORE; l++) {
			struct rte_mempool_cache *c = &mp->local_cache[l];
			uint32_t len = __atomic_load_n(&c->len, __ATOMIC_ACQUIRE);

			if (len > RTE_DIM(c->objs))
				len = RTE_DIM(c->objs);
			for (uint32_t i = 0; i < len; i++)
				mark_free(p, c->objs[i], &nfree, (int)l, i);
		}
	}
	if (p->have_free_set) {
		const struct rte_ring *r = mp->pool_data;
		void *const *ring_objs = (void *const *)&r[1];
		uint32_t cons, n = mpa_ring_window(r, &cons);

		for (uint32_t i = 0; i < n; i++)
			mark_free(p, ring_objs[(cons + i) & r->mask], &nfree, -1, cons + i);
	}
	mpa_dups_settle(p, &p->dups);
	return nfree;
}

void
mpa_pool_ext_set_locked(const struct mpa_pool_ext_ops *ops)
{
	ext_ops = ops;
	if (ops == NULL)
		return;
	for (int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = slots[i];

		if (p == NULL || p->ext != NULL)
			continue;
		p->ext_free = ops->free;
		__atomic_store_n(&p->ext, ops->attach(p, 0), __ATOMIC_RELEASE);
	}
}

/* Datapath slow paths: no lock, slots read with acquire. */

struct mpa_pool *
mpa_pool_find(const struct rte_mempool *mp)
{
	uint32_t n = __atomic_load_n(&slots_hwm, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++) {
		struct mpa_pool *p = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (p != NULL && p->mp == mp)
			return p;
	}
	return NULL;
}

struct mpa_pool *
mpa_pool_of_addr(uintptr_t a, int64_t *idx)
{
	uint32_t n = __atomic_load_n(&slots_hwm, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++) {
		struct mpa_pool *p = __atomic_load_n(&slots[i], __ATOMIC_ACQUIRE);

		if (p == NULL || a < p->loc.lo || a > p->loc.hi)
			continue;
		*idx = mpa_locator_find(&p->loc, a);
		return *idx >= 0 ? p : NULL;
	}
	return NULL;
}

/*
 * The slot of the pool the ring stamps of this thread last found. Only an
 * index: the pool in it is loaded again, so a pool gone since is never
 * touched.
 */
static __thread int ring_hint __attribute__((tls_model("initial-exec")));

/*
 * The run of the last object located for a ring stamp: objects of a burst
 * were mostly taken from the pool together, so mostly from one run.
 */
static __thread uint32_t run_hint __attribute__((tls_model("initial-exec")));

/*
 * mpa_locator_find(), inline, trying the run of the last object first.
 * @return the object's index or -1.
 */
static inline int64_t
locate_fast(const struct mpa_locator *loc, uintptr_t a)
{
	uint32_t i = run_hint;

	if (unlikely(i >= loc->nruns || a < loc->runs[i].first ||
		     a - loc->runs[i].first >=
		     (uint64_t)loc->runs[i].count * loc->runs[i].stride)) {
		if (loc->nruns == 0)
			return -1;
		i = loc->dir[(a - loc->lo) >> loc->dir_shift];
		while (i + 1 < loc->nruns && loc->runs[i + 1].first <= a)
			i++;
		run_hint = i;
	}
	return mpa_run_index(&loc->runs[i], a);
}

void
mpa_stamp_side(struct rte_mempool *mp, void *obj, uint64_t stamp)
{
	int64_t idx;
	struct mpa_pool *p = mpa_pool_of_addr((uintptr_t)obj, &idx);

	if (p != NULL && p->mp == mp && p->side != NULL)
		p->side[idx] = stamp;
}

/* One object of a ring burst, wherever it is; the hints follow it. */
static void
ring_stamp_one(void *obj, uint64_t s, uint32_t k)
{
	uintptr_t a = (uintptr_t)obj;
	struct mpa_pool *p = __atomic_load_n(&slots[ring_hint], __ATOMIC_ACQUIRE);
	int64_t idx;

	if (likely(p != NULL && a >= p->loc.lo && a <= p->loc.hi &&
		   (idx = locate_fast(&p->loc, a)) >= 0)) {
		/* the pool of the last object */
	} else {
		p = mpa_pool_of_addr(a, &idx);
		if (p == NULL)
			return;
		for (int i = 0; i < MPA_POOLS_MAX; i++)
			if (slots[i] == p)
				ring_hint = i;
	}
	if (p->stamp_off != MPA_STAMP_OFF_SIDE)
		mpa_stamp_slot_write(mpa_stamp_at(obj, p->stamp_off), s, k);
	else
		p->side[idx] = s;
}

void
mpa_ring_stamp(const struct rte_ring *r, void * const *objs, unsigned int n,
	       unsigned int esize, uint8_t state, const struct mpa_site *site)
{
	unsigned int i = 0;
	uint64_t s;
	uint32_t k;

	if (esize != sizeof(void *) || n == 0)
		return;
	s = mpa_stamp_make(mpa_holder(state, site, UINT16_MAX, UINT16_MAX,
				      state == MPA_ST_RING ? r : NULL),
			   mpa_cur_lcore(), mpa_clock_ms);
	k = mpa_objhist_k;
	/*
	 * A ring slot may hold anything, so every pointer is located before
	 * its stamp is written. The common case, objects of the run the last
	 * one was found in (a burst was mostly taken from the pool together)
	 * in a pool with header stamps and no history, is a loop over that
	 * run's constants held in registers: per object a subtract, a
	 * multiply, two tests and the store (mpa_run_index()). Anything else
	 * goes through ring_stamp_one(), which moves the hints, and the loop
	 * goes on from the run it found.
	 */
	while (i < n) {
		const struct mpa_pool *p = __atomic_load_n(&slots[ring_hint],
							   __ATOMIC_ACQUIRE);
		uint32_t ri = run_hint;

		if (likely(k == 0 && p != NULL &&
			   p->stamp_off != MPA_STAMP_OFF_SIDE &&
			   ri < p->loc.nruns)) {
			const struct mpa_run *ru = &p->loc.runs[ri];
			const int32_t soff = p->stamp_off;
			const uintptr_t first = ru->first;
			const uint64_t inv = ru->inv;
			const uint64_t mask = (UINT64_C(1) << ru->shift) - 1;
			const uint32_t shift = ru->shift, count = ru->count;

			for (; i < n; i++) {
				uint64_t off = (uintptr_t)objs[i] - first;

				if (unlikely((off & mask) != 0 ||
					     (off >> shift) * inv >= count))
					break;
				*mpa_stamp_at(objs[i], soff) = s;
			}
			if (i == n)
				break;
		}
		ring_stamp_one(objs[i], s, k);
		i++;
	}
}
