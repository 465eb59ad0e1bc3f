/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_RING_H
#define MPA_RING_H

/*
 * Watched rings: application rte_rings whose contents the scanner reads at
 * every scan, so objects sitting in them are attributed to the ring by name
 * even when no enqueue was stamped (zero-recompile mode, or code that is not
 * instrumented). A held object found in a watched ring is in state ring,
 * unless its stamp says tx: a driver's TX ring (net_ring) holds what was
 * handed to tx_burst.
 *
 * Rings are read under the EAL tailq read lock and only while still listed
 * in the RTE_RING tailq, so a ring freed behind our back is never read.
 * Mempool rings (name prefix RTE_MEMPOOL_MZ_PREFIX) are not watched: their
 * contents are the pool's free objects.
 */

#include <rte_ring.h>

/**
 * The occupied slots of a ring of pointers, as one racy snapshot: the
 * count, and in @p first the index of the first (mask it per slot). The
 * tails are read at the same offsets for every sync type (the HTS and RTS
 * head/tail unions keep the tail where rte_ring_headtail has it). A count
 * beyond the capacity can only come from reading the two tails at
 * different moments, and is clamped.
 */
static inline uint32_t
mpa_ring_window(const struct rte_ring *r, uint32_t *first)
{
	uint32_t cons = __atomic_load_n(&r->cons.tail, __ATOMIC_ACQUIRE);
	uint32_t prod = __atomic_load_n(&r->prod.tail, __ATOMIC_ACQUIRE);
	uint32_t n = (prod - cons) & r->mask;

	*first = cons;
	return n > r->capacity ? r->capacity : n;
}

/** Most rings watched at once. */
#define MPA_RINGS_MAX 64

/**
 * Watch a ring. Idempotent; callable from any thread.
 * @return 0, -EINVAL (NULL, or a mempool ring), -ENOSPC (table full).
 */
int mpa_ring_watch(const struct rte_ring *r);

/** Stop watching a ring (before it is freed). Unknown rings are ignored. */
void mpa_ring_unwatch(const struct rte_ring *r);

/** Stop watching every ring (auditor shutdown). */
void mpa_ring_unwatch_all(void);

/**
 * Visit the objects of every watched ring that is still alive; caller holds
 * the registry lock. @p fn gets the ring and one slot's value.
 */
void mpa_ring_foreach_obj(void (*fn)(const struct rte_ring *r, void *obj,
				      void *arg), void *arg);

#endif /* MPA_RING_H */
