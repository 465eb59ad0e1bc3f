/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_POOL_H
#define MPA_POOL_H

/*
 * Pool registry: which mempools are audited, how to find their objects,
 * and where their free objects are.
 *
 * Notes on locking:
 * - mpa_registry_lock (a mutex) guards the registry, every pool's
 *   scanner-private state, and the scan results. Attach, detach, scans and
 *   reports take it; nothing on the datapath does.
 * - The datapath's slow paths (side-table stamps, ring stamps) read the
 *   slot array without a lock. A detached pool is therefore not freed at
 *   once but parked for MPA_POOL_RETIRE_MS, far longer than any datapath
 *   call lasts, and then freed by the scanner thread (mpa_pool_reap()).
 * - The holder table has its own spinlock (holder.c), never taken while
 *   waiting for this one.
 */

#include <stdint.h>

#include <rte_mempool.h>

#include "classify.h"
#include "dfree.h"
#include "history.h"
#include "locator.h"

/** Most pools audited at once. */
#define MPA_POOLS_MAX 64
/** How long a detached pool's tables outlive it. */
#define MPA_POOL_RETIRE_MS 2000u

struct mpa_pool {
	struct rte_mempool *mp;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t size;            /**< objects */
	int32_t stamp_off;        /**< where the stamps are, decided at attach */
	int header_stamp;         /**< in the header pad (history is kept there) */
	int nohdr_counted;        /**< counted in mpa_nohdr_pools while attached */
	int have_free_set;        /**< ring and caches readable */
	int is_mbuf;              /**< objects are mbufs (mpa_mp_is_mbuf()) */
	uintptr_t *addrs;         /**< object addresses, sorted */
	struct mpa_locator loc;
	uint64_t *side;           /**< side-table stamps (no header room) */
	struct mpa_objstate *st;  /**< scanner memory per object */
	uint64_t *freemap;        /**< bit per object: free at this scan */
	struct mpa_dups dups;     /**< objects free twice (dfree.h) */
	struct mpa_history hist;  /**< one sample per scan (history.h) */
	int hist_failed;          /**< its ring could not be allocated */
	uint32_t attach_ms;       /**< clock when attached: history words
				       older than this are not ours */
	uint64_t bare_free;       /**< the bare free stamp given at attach */
	uint32_t retire_ms;       /**< clock when detached */
	uint32_t last_scan_ms;    /**< clock at the latest scan */
	struct mpa_pool *next_retired;
	void *ext;                /**< a layered module's data (mpa_pool_ext_ops) */
	void (*ext_free)(void *ext);
	/* Results of the latest scan. */
	uint32_t in_use;
	uint32_t nfree;
	uint32_t stuck;
};

/** 1 if @p mp keeps its free objects in an rte_ring (pool_data). */
int mpa_pool_ops_is_ring(const struct rte_mempool *mp);

void mpa_registry_lock(void);
void mpa_registry_unlock(void);

/** Slot @p i of the registry, or NULL; caller holds the lock. */
struct mpa_pool *mpa_pool_slot(unsigned int i);

/**
 * The addresses of a populated pool's objects, sorted: the object indices
 * used by the locator, the stamps and the scanner. Allocated; the caller
 * frees it. @return 0, -ENOMEM, -EINVAL (not fully populated).
 */
int mpa_pool_addrs(struct rte_mempool *mp, uintptr_t **out);

/** Attach, caller holds the lock. @p fresh: clear the stamps (new pool). */
int mpa_pool_attach_locked(struct rte_mempool *mp, int fresh);

/** Detach every pool and free everything (auditor shutdown). */
void mpa_pool_detach_all(void);

/** Free retired pools older than MPA_POOL_RETIRE_MS; caller holds the lock. */
void mpa_pool_reap(uint32_t now, int all);

/**
 * The audited pool of @p mp, or NULL. Without the lock, for datapath slow
 * paths: the pool stays readable MPA_POOL_RETIRE_MS after its detach.
 */
struct mpa_pool *mpa_pool_find(const struct rte_mempool *mp);

/**
 * The audited pool one of whose objects is at @p a, its index in @p idx;
 * NULL if none. Without the lock, as mpa_pool_find().
 */
struct mpa_pool *mpa_pool_of_addr(uintptr_t a, int64_t *idx);

/**
 * Per-pool data of a module layered on the registry (the preload's ops
 * hook), so that the registry is the one list of audited pools: @p attach
 * makes it when a pool is attached (@p fresh as for the attach; NULL if it
 * wants none of this pool), and @p free releases it with the pool's own
 * tables, after the retirement delay. Both run under the registry lock.
 */
struct mpa_pool_ext_ops {
	void *(*attach)(struct mpa_pool *p, int fresh);
	void (*free)(void *ext);
};

/**
 * Layer @p ops (NULL: stop making new data) on the registry, and run its
 * attach on every pool attached already that has none (fresh 0). Caller
 * holds the lock. Data already made stays until its pool is freed.
 */
void mpa_pool_ext_set_locked(const struct mpa_pool_ext_ops *ops);

/** Called under the registry lock for a pool about to be destroyed. */
typedef void (*mpa_pool_destroy_cb_t)(struct mpa_pool *p);

/**
 * Register for mempool READY/DESTROY events and attach existing pools.
 * @p on_destroy (may be NULL) sees each audited pool before it goes, so
 * the scan can keep its last state without pool.c calling the scan.
 */
int mpa_pool_events_start(mpa_pool_destroy_cb_t on_destroy);
void mpa_pool_events_stop(void);

/**
 * Mark the pool's free objects (in its ring and in every lcore cache) in
 * p->freemap. @return the number of distinct free objects.
 */
uint32_t mpa_pool_snapshot_free(struct mpa_pool *p);

/**
 * Read the stamp of object @p idx. In an mbuf's dynamic field, 0 is the
 * bare free stamp: rte_pktmbuf_init() clears the field after the pool's
 * READY event, so an mbuf never stamped since says 0 (pool.c).
 */
static inline uint64_t
mpa_pool_stamp(const struct mpa_pool *p, uint32_t idx)
{
	uint64_t s;

	if (p->stamp_off == MPA_STAMP_OFF_SIDE)
		return ((volatile uint64_t *)p->side)[idx];
	s = *(volatile uint64_t *)mpa_stamp_at((void *)p->addrs[idx],
					      p->stamp_off);
	return s != 0 || p->stamp_off < 0 ? s : p->bare_free;
}

/** Where pool @p p's stamps are: "dynfield", "header" or "side". */
static inline const char *
mpa_pool_stamp_where(const struct mpa_pool *p)
{
	if (p->stamp_off == MPA_STAMP_OFF_SIDE)
		return "side";
	return p->stamp_off >= 0 ? "dynfield" : "header";
}

#endif /* MPA_POOL_H */
