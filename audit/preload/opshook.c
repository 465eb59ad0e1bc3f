/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Mempool ops hook: see opshook.h for what it does and its limits.
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_spinlock.h>

#include "core/guard.h"
#include "core/clock.h"
#include "core/errors.h"
#include "core/locator.h"
#include "heap/heap.h"
#include "core/log.h"
#include "opshook.h"
#include "core/pool.h"
#include "core/ring.h"

/* Only pools of these ops keep their free objects in an rte_ring. */
#define HOOK_OPS_PREFIX "ring_"

/*
 * The hook's part of a registry pool (mpa_pool.ext): the registry is the
 * one list of audited pools, and frees this with the pool's own tables.
 */
struct hook_pool {
	uint8_t *in_ring;        /* byte per object: in the pool's ring */
	uint32_t stale;          /* double frees the ring did not confirm */
	int off;                 /* checking given up (stale state) */
};

/* Start and stop, under the registry lock. */
static int hook_on;

/* Written before the wrappers are installed, never changed afterwards. */
static rte_mempool_enqueue_t orig_enq[RTE_MEMPOOL_MAX_OPS_IDX];
static rte_mempool_dequeue_t orig_deq[RTE_MEMPOOL_MAX_OPS_IDX];
static uint32_t hook_mask;       /* ops indices whose pointers we swapped */

/* The registry's pool of @p mp and its hook data, or NULL: no lock. */
static inline struct hook_pool *
hooked(const struct rte_mempool *mp, struct mpa_pool **pp)
{
	struct mpa_pool *p = mpa_pool_find(mp);
	struct hook_pool *hp;

	if (p == NULL)
		return NULL;
	hp = __atomic_load_n(&p->ext, __ATOMIC_ACQUIRE);
	if (hp == NULL || __atomic_load_n(&hp->off, __ATOMIC_RELAXED))
		return NULL;
	*pp = p;
	return hp;
}

/*
 * One byte per object rather than one bit: a bit would need a locked
 * read-modify-write per object (measured at 60% of the wrapper's time),
 * while neighbouring bytes can be written by different lcores with plain
 * stores. Marks are set before the real enqueue and cleared after the real
 * dequeue, so the ring's own release/acquire orders them: a dequeuer never
 * clears a mark before the enqueuer has set it. What a plain test-then-set
 * gives up is only the race of two lcores freeing the same object at the
 * same instant, which may then go unnoticed.
 */
static inline int
mark_test_set(uint8_t *map, uint64_t idx)
{
	if (__atomic_load_n(&map[idx], __ATOMIC_RELAXED) != 0)
		return 1;
	__atomic_store_n(&map[idx], 1, __ATOMIC_RELAXED);
	return 0;
}

static inline void
mark_clear(uint8_t *map, uint64_t idx)
{
	__atomic_store_n(&map[idx], 0, __ATOMIC_RELAXED);
}

static void
clear_objs(const struct mpa_pool *p, struct hook_pool *hp, void * const *objs,
	   unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int64_t idx = mpa_locator_find(&p->loc, (uintptr_t)objs[i]);

		if (idx >= 0)
			mark_clear(hp->in_ring, (uint64_t)idx);
	}
}

/*
 * Is @p obj in the ring right now? Read between the consumer and producer
 * tails, as the scanner does; every ring-based mempool stores pointers.
 */
static int
ring_holds(const struct rte_ring *r, const void *obj)
{
	const void * const volatile *slots = (const void * const volatile *)&r[1];
	uint32_t cons, n = mpa_ring_window(r, &cons);

	for (uint32_t k = 0; k < n; k++)
		if (slots[(cons + k) & r->mask] == obj)
			return 1;
	return 0;
}

static int
earlier_in_batch(void * const *objs, unsigned int i)
{
	for (unsigned int k = 0; k < i; k++)
		if (objs[k] == objs[i])
			return 1;
	return 0;
}

/*
 * A mark was set but the ring does not hold the object: something we do not
 * see (another process sharing the pool) took it. Never drop an object on
 * such evidence; give up on the pool if it keeps happening.
 */
static void
note_stale(const struct mpa_pool *p, struct hook_pool *hp)
{
	if (__atomic_add_fetch(&hp->stale, 1, __ATOMIC_RELAXED) ==
	    MPA_HOOK_STALE_MAX) {
		__atomic_store_n(&hp->off, 1, __ATOMIC_RELAXED);
		MPA_LOG(WARNING, "pool %s changes behind the ops hook (shared with another process?); double-free checks off for it",
			p->name);
	}
}

/*
 * Decide about objs[i] on the slow path. @return 1 to enqueue it (its mark
 * is then set), 0 to drop it (reported).
 */
static int
accept_obj(const struct mpa_pool *p, struct hook_pool *hp,
	   struct rte_mempool *mp, void * const *objs, unsigned int i,
	   uint64_t stamp)
{
	uintptr_t a = (uintptr_t)objs[i];
	int64_t idx = mpa_locator_find(&p->loc, a), other;

	if (idx < 0) {
		mpa_error_report(mpa_pool_of_addr(a, &other) != NULL ?
				 MPA_ERR_FOREIGN_FREE : MPA_ERR_STRAY_FREE,
				 mp->name, a, NULL, NULL);
		return 0;
	}
	if (mark_test_set(hp->in_ring, (uint64_t)idx)) {
		if (earlier_in_batch(objs, i) || ring_holds(mp->pool_data, objs[i])) {
			mpa_error_report(MPA_ERR_DOUBLE_FREE, mp->name, a, NULL,
					 NULL);
			return 0;
		}
		note_stale(p, hp);
	}
	if (stamp != 0)
		mpa_stamp_obj(mp, objs[i], stamp);
	return 1;
}

static int
enqueue_chunk(const struct mpa_pool *p, struct hook_pool *hp,
	      rte_mempool_enqueue_t real, struct rte_mempool *mp, void **buf,
	      unsigned int k)
{
	int rc = real(mp, buf, k);

	if (unlikely(rc != 0))
		clear_objs(p, hp, buf, k);
	return rc;
}

/*
 * Some object of the batch must be dropped: enqueue the others, compacted
 * on the stack chunk by chunk. objs[0..first_bad) are already accepted.
 */
static int __rte_noinline
enqueue_filtered(const struct mpa_pool *p, struct hook_pool *hp,
		 rte_mempool_enqueue_t real, struct rte_mempool *mp,
		 void * const *objs, unsigned int n, unsigned int first_bad,
		 uint64_t stamp)
{
	void *buf[MPA_HOOK_FILTER_CHUNK];
	unsigned int k = 0;
	int rc = 0, r;

	for (unsigned int i = 0; i < n; i++) {
		if (i >= first_bad && !accept_obj(p, hp, mp, objs, i, stamp))
			continue;
		buf[k++] = objs[i];
		if (k == RTE_DIM(buf)) {
			r = enqueue_chunk(p, hp, real, mp, buf, k);
			rc = rc != 0 ? rc : r;
			k = 0;
		}
	}
	if (k != 0) {
		r = enqueue_chunk(p, hp, real, mp, buf, k);
		rc = rc != 0 ? rc : r;
	}
	return rc;
}

static int
hook_enqueue(struct rte_mempool *mp, void * const *objs, unsigned int n)
{
	rte_mempool_enqueue_t real = orig_enq[mp->ops_index];
	struct mpa_pool *p = NULL;
	struct hook_pool *hp = hooked(mp, &p);
	uint64_t stamp = 0;
	unsigned int i;
	uint32_t k;
	int32_t off;
	int rc;

	if (hp == NULL)
		return real(mp, objs, n);
	/*
	 * No lcore in this stamp: who flushed a cache says nothing about who
	 * holds the object next, and rte_lcore_id() costs a TLS call here.
	 */
	if (mpa_on)
		stamp = mpa_stamp_make(MPA_HOLDER_FREE, MPA_LCORE_NONE, mpa_clock_ms);
	k = mpa_objhist_k;
	off = p->stamp_off;
	for (i = 0; i < n; i++) {
		int64_t idx = mpa_locator_find(&p->loc, (uintptr_t)objs[i]);

		/* Leave a suspect object untouched: the slow path decides. */
		if (unlikely(idx < 0 || mark_test_set(hp->in_ring, (uint64_t)idx)))
			break;
		if (stamp != 0)
			mpa_stamp_obj_off(mp, objs[i], off, stamp, k);
	}
	if (unlikely(i != n))
		return enqueue_filtered(p, hp, real, mp, objs, n, i, stamp);
	rc = real(mp, objs, n);
	if (unlikely(rc != 0))
		clear_objs(p, hp, objs, n);
	return rc;
}

static int
hook_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	int rc = orig_deq[mp->ops_index](mp, objs, n);
	struct mpa_pool *p = NULL;
	struct hook_pool *hp;

	if (rc != 0)
		return rc;
	hp = hooked(mp, &p);
	if (hp != NULL)
		clear_objs(p, hp, objs, n);
	return rc;
}

/* Control plane: the registry's pools, under the registry lock. */

static void
hook_pool_free(void *ext)
{
	struct hook_pool *hp = ext;

	if (hp == NULL)
		return;
	free(hp->in_ring);
	free(hp);
}

/* Pools that exist already: their ring says which objects are in it. */
static void
in_ring_from_snapshot(const struct mpa_pool *p, struct hook_pool *hp)
{
	const struct rte_ring *r = p->mp->pool_data;
	const void * const *slots = (const void * const *)&r[1];
	uint32_t cons, n = mpa_ring_window(r, &cons);

	for (uint32_t k = 0; k < n; k++) {
		int64_t idx = mpa_locator_find(&p->loc,
				(uintptr_t)slots[(cons + k) & r->mask]);

		if (idx >= 0)
			mark_test_set(hp->in_ring, (uint64_t)idx);
	}
}

/*
 * The registry attached @p p: check its frees if its ops are hooked. At
 * READY (@p fresh) the pool was just populated, every object enqueued once
 * through the wrapper while the pool was not yet known, so all are in its
 * ring.
 */
static void *
hook_pool_attach(struct mpa_pool *p, int fresh)
{
	struct rte_mempool *mp = p->mp;
	struct hook_pool *hp;

	if (!hook_on || mp->ops_index < 0 ||
	    mp->ops_index >= RTE_MEMPOOL_MAX_OPS_IDX ||
	    !(hook_mask & (1u << mp->ops_index)) || mp->pool_data == NULL)
		return NULL;
	hp = calloc(1, sizeof(*hp));
	if (hp != NULL)
		hp->in_ring = calloc(p->size, sizeof(*hp->in_ring));
	if (hp == NULL || hp->in_ring == NULL) {
		MPA_LOG(WARNING, "no double-free checks for pool %s: %s",
			p->name, strerror(ENOMEM));
		hook_pool_free(hp);
		return NULL;
	}
	if (fresh)
		memset(hp->in_ring, 1, p->size);
	else
		in_ring_from_snapshot(p, hp);
	MPA_LOG(DEBUG, "checking frees of pool %s: %u objects, %s", p->name,
		p->size, fresh ? "all in its ring" : "ring snapshot");
	return hp;
}

static const struct mpa_pool_ext_ops hook_ext = {
	.attach = hook_pool_attach,
	.free = hook_pool_free,
};

/*
 * A restart must not trust marks kept while unhooked: take them again from
 * the rings (start runs while no lcore runs the datapath).
 */
static void
resnapshot_locked(void)
{
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		struct mpa_pool *p = mpa_pool_slot(i);
		struct hook_pool *hp = p != NULL ? p->ext : NULL;

		if (hp == NULL)
			continue;
		memset(hp->in_ring, 0, p->size);
		in_ring_from_snapshot(p, hp);
		hp->stale = 0;
		hp->off = 0;
	}
}

static unsigned int
pools_locked(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++) {
		const struct mpa_pool *p = mpa_pool_slot(i);

		n += p != NULL && p->ext != NULL;
	}
	return n;
}

/* Set or restore the ops pointers of every index in hook_mask. */
static void
swap_ops(int install)
{
	rte_spinlock_lock(&rte_mempool_ops_table.sl);
	for (unsigned int i = 0; i < RTE_MEMPOOL_MAX_OPS_IDX; i++) {
		struct rte_mempool_ops *ops = &rte_mempool_ops_table.ops[i];

		if (!(hook_mask & (1u << i)))
			continue;
		__atomic_store_n(&ops->enqueue,
				 install ? hook_enqueue : orig_enq[i],
				 __ATOMIC_RELEASE);
		__atomic_store_n(&ops->dequeue,
				 install ? hook_dequeue : orig_deq[i],
				 __ATOMIC_RELEASE);
	}
	rte_spinlock_unlock(&rte_mempool_ops_table.sl);
}

int
mpa_opshook_start(void)
{
	uint32_t mask = 0;

	mpa_guard_enter();
	mpa_registry_lock();
	if (hook_on)
		goto out;

	/*
	 * The ring_* ops come from a plugin that rte_eal_init() loads, so
	 * this runs after it. Indices are only added, never removed.
	 */
	rte_spinlock_lock(&rte_mempool_ops_table.sl);
	for (uint32_t i = 0; i < rte_mempool_ops_table.num_ops &&
	     i < RTE_MEMPOOL_MAX_OPS_IDX; i++) {
		const struct rte_mempool_ops *ops = &rte_mempool_ops_table.ops[i];

		if (strncmp(ops->name, HOOK_OPS_PREFIX,
			    strlen(HOOK_OPS_PREFIX)) != 0 ||
		    ops->enqueue == NULL || ops->dequeue == NULL ||
		    ops->enqueue == hook_enqueue)
			continue;
		orig_enq[i] = ops->enqueue;
		orig_deq[i] = ops->dequeue;
		mask |= 1u << i;
	}
	rte_spinlock_unlock(&rte_mempool_ops_table.sl);
	if (mask == 0 && hook_mask == 0) {
		MPA_LOG(INFO, "no ring-based mempool ops: frees are not checked");
		goto out;
	}
	hook_mask |= mask;
	swap_ops(1);
	hook_on = 1;
	resnapshot_locked();
	/* Pools the registry has and new ones it attaches get marks. */
	mpa_pool_ext_set_locked(&hook_ext);
	MPA_LOG(DEBUG, "mempool ops hooked (index mask %#x), %u pools checked",
		hook_mask, pools_locked());
out:
	mpa_registry_unlock();
	mpa_guard_leave();
	return 0;
}

void
mpa_opshook_stop(void)
{
	mpa_registry_lock();
	if (hook_on) {
		swap_ops(0);
		mpa_pool_ext_set_locked(NULL);
		hook_on = 0;
	}
	mpa_registry_unlock();
}

unsigned int
mpa_opshook_pools(void)
{
	unsigned int n;

	mpa_registry_lock();
	n = pools_locked();
	mpa_registry_unlock();
	return n;
}
