/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Mempool ops hook: see opshook.h for what it does and its limits.
 */

#include <errno.h>
#include <pthread.h>
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

struct hook_pool {
	struct rte_mempool *mp;
	struct mpa_locator loc;
	uint8_t *in_ring;        /* byte per object: in the pool's ring */
	uint32_t size;
	uint32_t stale;          /* double frees the ring did not confirm */
	int off;                 /* checking given up (stale state) */
	uint32_t retire_ms;
	struct hook_pool *next_retired;
};

static pthread_mutex_t hook_lock = PTHREAD_MUTEX_INITIALIZER;
/* Read by the wrappers without the lock: atomic loads only. */
static struct hook_pool *tracked[MPA_POOLS_MAX];
static uint32_t tracked_hwm;     /* slots ever used: lookups stop there */
static struct hook_pool *retired;
static int full_logged;

/* Written before the wrappers are installed, never changed afterwards. */
static rte_mempool_enqueue_t orig_enq[RTE_MEMPOOL_MAX_OPS_IDX];
static rte_mempool_dequeue_t orig_deq[RTE_MEMPOOL_MAX_OPS_IDX];
static uint32_t hook_mask;       /* ops indices whose pointers we swapped */
static int hook_on;

static inline struct hook_pool *
tracked_find(const struct rte_mempool *mp)
{
	uint32_t n = __atomic_load_n(&tracked_hwm, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++) {
		struct hook_pool *hp = __atomic_load_n(&tracked[i],
						       __ATOMIC_ACQUIRE);

		if (hp != NULL && hp->mp == mp)
			return hp;
	}
	return NULL;
}

/* Error path only: which tracked pool, if any, owns an address. */
static const struct hook_pool *
tracked_owner(uintptr_t a)
{
	uint32_t n = __atomic_load_n(&tracked_hwm, __ATOMIC_ACQUIRE);

	for (uint32_t i = 0; i < n; i++) {
		const struct hook_pool *hp = __atomic_load_n(&tracked[i],
							     __ATOMIC_ACQUIRE);

		if (hp != NULL && mpa_locator_find(&hp->loc, a) >= 0)
			return hp;
	}
	return NULL;
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
clear_objs(struct hook_pool *hp, void * const *objs, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		int64_t idx = mpa_locator_find(&hp->loc, (uintptr_t)objs[i]);

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
note_stale(struct hook_pool *hp)
{
	if (__atomic_add_fetch(&hp->stale, 1, __ATOMIC_RELAXED) ==
	    MPA_HOOK_STALE_MAX) {
		__atomic_store_n(&hp->off, 1, __ATOMIC_RELAXED);
		MPA_LOG(WARNING, "pool %s changes behind the ops hook (shared with another process?); double-free checks off for it",
			hp->mp->name);
	}
}

/*
 * Decide about objs[i] on the slow path. @return 1 to enqueue it (its mark
 * is then set), 0 to drop it (reported).
 */
static int
accept_obj(struct hook_pool *hp, struct rte_mempool *mp, void * const *objs,
	   unsigned int i, uint64_t stamp)
{
	uintptr_t a = (uintptr_t)objs[i];
	int64_t idx = mpa_locator_find(&hp->loc, a);

	if (idx < 0) {
		mpa_error_report(tracked_owner(a) != NULL ? MPA_ERR_FOREIGN_FREE :
				 MPA_ERR_STRAY_FREE, mp->name, a, NULL, NULL);
		return 0;
	}
	if (mark_test_set(hp->in_ring, (uint64_t)idx)) {
		if (earlier_in_batch(objs, i) || ring_holds(mp->pool_data, objs[i])) {
			mpa_error_report(MPA_ERR_DOUBLE_FREE, mp->name, a, NULL,
					 NULL);
			return 0;
		}
		note_stale(hp);
	}
	if (stamp != 0)
		mpa_stamp_obj(mp, objs[i], stamp);
	return 1;
}

static int
enqueue_chunk(struct hook_pool *hp, rte_mempool_enqueue_t real,
	      struct rte_mempool *mp, void **buf, unsigned int k)
{
	int rc = real(mp, buf, k);

	if (unlikely(rc != 0))
		clear_objs(hp, buf, k);
	return rc;
}

/*
 * Some object of the batch must be dropped: enqueue the others, compacted
 * on the stack chunk by chunk. objs[0..first_bad) are already accepted.
 */
static int __rte_noinline
enqueue_filtered(struct hook_pool *hp, rte_mempool_enqueue_t real,
		 struct rte_mempool *mp, void * const *objs, unsigned int n,
		 unsigned int first_bad, uint64_t stamp)
{
	void *buf[MPA_HOOK_FILTER_CHUNK];
	unsigned int k = 0;
	int rc = 0, r;

	for (unsigned int i = 0; i < n; i++) {
		if (i >= first_bad && !accept_obj(hp, mp, objs, i, stamp))
			continue;
		buf[k++] = objs[i];
		if (k == RTE_DIM(buf)) {
			r = enqueue_chunk(hp, real, mp, buf, k);
			rc = rc != 0 ? rc : r;
			k = 0;
		}
	}
	if (k != 0) {
		r = enqueue_chunk(hp, real, mp, buf, k);
		rc = rc != 0 ? rc : r;
	}
	return rc;
}

static int
hook_enqueue(struct rte_mempool *mp, void * const *objs, unsigned int n)
{
	rte_mempool_enqueue_t real = orig_enq[mp->ops_index];
	struct hook_pool *hp = tracked_find(mp);
	uint64_t stamp = 0;
	unsigned int i;
	uint32_t k;
	int rc;

	if (hp == NULL || __atomic_load_n(&hp->off, __ATOMIC_RELAXED))
		return real(mp, objs, n);
	/*
	 * No lcore in this stamp: who flushed a cache says nothing about who
	 * holds the object next, and rte_lcore_id() costs a TLS call here.
	 */
	if (mpa_on)
		stamp = mpa_stamp_make(MPA_HOLDER_FREE, MPA_LCORE_NONE, mpa_clock_ms);
	k = mpa_objhist_k;
	for (i = 0; i < n; i++) {
		int64_t idx = mpa_locator_find(&hp->loc, (uintptr_t)objs[i]);

		/* Leave a suspect object untouched: the slow path decides. */
		if (unlikely(idx < 0 || mark_test_set(hp->in_ring, (uint64_t)idx)))
			break;
		if (stamp != 0)
			mpa_stamp_obj_k(mp, objs[i], stamp, k);
	}
	if (unlikely(i != n))
		return enqueue_filtered(hp, real, mp, objs, n, i, stamp);
	rc = real(mp, objs, n);
	if (unlikely(rc != 0))
		clear_objs(hp, objs, n);
	return rc;
}

static int
hook_dequeue(struct rte_mempool *mp, void **objs, unsigned int n)
{
	int rc = orig_deq[mp->ops_index](mp, objs, n);
	struct hook_pool *hp;

	if (rc != 0)
		return rc;
	hp = tracked_find(mp);
	if (hp != NULL && !__atomic_load_n(&hp->off, __ATOMIC_RELAXED))
		clear_objs(hp, objs, n);
	return rc;
}

/* Control plane: tracked pools, under hook_lock. */

static void
hook_pool_free(struct hook_pool *hp)
{
	if (hp == NULL)
		return;
	mpa_locator_free(&hp->loc);
	free(hp->in_ring);
	free(hp);
}

/* Pools that exist already: their ring says which objects are in it. */
static void
in_ring_from_snapshot(struct hook_pool *hp)
{
	const struct rte_ring *r = hp->mp->pool_data;
	const void * const *slots = (const void * const *)&r[1];
	uint32_t cons, n = mpa_ring_window(r, &cons);

	for (uint32_t k = 0; k < n; k++) {
		int64_t idx = mpa_locator_find(&hp->loc,
				(uintptr_t)slots[(cons + k) & r->mask]);

		if (idx >= 0)
			mark_test_set(hp->in_ring, (uint64_t)idx);
	}
}

static struct hook_pool *
hook_pool_new(struct rte_mempool *mp, int fresh)
{
	uintptr_t *addrs = NULL;
	struct hook_pool *hp;
	int rc = -ENOMEM;

	hp = calloc(1, sizeof(*hp));
	if (hp == NULL)
		goto err;
	hp->mp = mp;
	hp->size = mp->size;
	hp->in_ring = calloc(mp->size, sizeof(*hp->in_ring));
	if (hp->in_ring == NULL)
		goto err;
	rc = mpa_pool_addrs(mp, &addrs);
	if (rc != 0)
		goto err;
	rc = mpa_locator_build(&hp->loc, addrs, hp->size);
	if (rc != 0)
		goto err;
	free(addrs);
	/* A pool that just became ready has every object in its ring. */
	if (fresh)
		memset(hp->in_ring, 1, hp->size);
	else
		in_ring_from_snapshot(hp);
	return hp;
err:
	MPA_LOG(WARNING, "no double-free checks for pool %s: %s", mp->name,
		strerror(-rc));
	free(addrs);
	hook_pool_free(hp);
	return NULL;
}

static void
tracked_add_locked(struct rte_mempool *mp, int fresh)
{
	struct hook_pool *hp;
	int slot = -1;

	if (mp->ops_index < 0 || mp->ops_index >= RTE_MEMPOOL_MAX_OPS_IDX ||
	    !(hook_mask & (1u << mp->ops_index)) || mp->pool_data == NULL ||
	    mp->size == 0 || mp->populated_size < mp->size)
		return;
	for (int i = 0; i < MPA_POOLS_MAX; i++) {
		if (tracked[i] != NULL && tracked[i]->mp == mp)
			return;
		if (tracked[i] == NULL && slot < 0)
			slot = i;
	}
	if (slot < 0) {
		if (!full_logged)
			MPA_LOG(WARNING, "no double-free checks for pool %s: already checking %d pools",
				mp->name, MPA_POOLS_MAX);
		full_logged = 1;
		return;
	}
	hp = hook_pool_new(mp, fresh);
	if (hp == NULL)
		return;
	__atomic_store_n(&tracked[slot], hp, __ATOMIC_RELEASE);
	if ((uint32_t)slot >= tracked_hwm)
		__atomic_store_n(&tracked_hwm, (uint32_t)slot + 1,
				 __ATOMIC_RELEASE);
	MPA_LOG(DEBUG, "checking frees of pool %s: %u objects, %s", mp->name,
		hp->size, fresh ? "all in its ring" : "ring snapshot");
}

static void
tracked_retire_locked(unsigned int i)
{
	struct hook_pool *hp = tracked[i];

	if (hp == NULL)
		return;
	__atomic_store_n(&tracked[i], NULL, __ATOMIC_RELEASE);
	hp->retire_ms = mpa_clock_read();
	hp->next_retired = retired;
	retired = hp;
}

/* Wrappers may still read a retired pool: free it only much later. */
static void
reap_locked(void)
{
	uint32_t now = mpa_clock_read();
	struct hook_pool **pp = &retired;

	while (*pp != NULL) {
		struct hook_pool *hp = *pp;

		if (mpa_age_ms(now, hp->retire_ms) >= (int32_t)MPA_POOL_RETIRE_MS) {
			*pp = hp->next_retired;
			hook_pool_free(hp);
		} else {
			pp = &hp->next_retired;
		}
	}
}

/*
 * READY comes after the pool was populated (every object enqueued once,
 * through the wrapper, while the pool was still untracked) and before its
 * creator gets it; DESTROY before its memory goes.
 */
static void
hook_pool_event(enum rte_mempool_event ev, struct rte_mempool *mp, void *arg)
{
	/* The application's thread, the auditor's allocations. */
	mpa_guard_enter();
	pthread_mutex_lock(&hook_lock);
	if (hook_on && ev == RTE_MEMPOOL_EVENT_READY) {
		tracked_add_locked(mp, 1);
	} else if (ev == RTE_MEMPOOL_EVENT_DESTROY) {
		for (unsigned int i = 0; i < MPA_POOLS_MAX; i++)
			if (tracked[i] != NULL && tracked[i]->mp == mp)
				tracked_retire_locked(i);
	}
	reap_locked();
	pthread_mutex_unlock(&hook_lock);
	mpa_guard_leave();
}

static void
track_existing(struct rte_mempool *mp, void *arg)
{
	tracked_add_locked(mp, 0);
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
	int rc = 0;

	pthread_mutex_lock(&hook_lock);
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
	if (mask == 0) {
		MPA_LOG(INFO, "no ring-based mempool ops: frees are not checked");
		goto out;
	}
	hook_mask = mask;

	/* A restart must not trust bitmaps kept while unhooked. */
	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++)
		tracked_retire_locked(i);
	if (rte_mempool_event_callback_register(hook_pool_event, NULL) != 0) {
		rc = -rte_errno;
		MPA_LOG(ERR, "cannot follow mempool creation for the ops hook: %s; frees are not checked",
			rte_strerror(rte_errno));
		goto out;
	}
	swap_ops(1);
	hook_on = 1;
	rte_mempool_walk(track_existing, NULL);
	MPA_LOG(DEBUG, "mempool ops hooked (index mask %#x), %u pools checked",
		mask, mpa_opshook_pools());
out:
	pthread_mutex_unlock(&hook_lock);
	return rc;
}

void
mpa_opshook_stop(void)
{
	pthread_mutex_lock(&hook_lock);
	if (hook_on) {
		swap_ops(0);
		rte_mempool_event_callback_unregister(hook_pool_event, NULL);
		hook_on = 0;
	}
	reap_locked();
	pthread_mutex_unlock(&hook_lock);
}

unsigned int
mpa_opshook_pools(void)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < MPA_POOLS_MAX; i++)
		n += __atomic_load_n(&tracked[i], __ATOMIC_ACQUIRE) != NULL;
	return n;
}
