/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <string.h>

#include <rte_eal_memconfig.h>
#include <rte_memzone.h>
#include <rte_mempool.h>
#include <rte_ring.h>
#include <rte_tailq.h>

#include "log.h"
#include "ring.h"

/*
 * Slots are claimed and released with atomics so that mpa_ring_watch() can
 * run on any thread (ring creation is interposed in zero-recompile mode);
 * only the scanner dereferences a watched ring, and only under the EAL
 * tailq read lock after finding it in the ring list.
 */
static const struct rte_ring *watched[MPA_RINGS_MAX];
static int full_logged;

/* Caller holds the tailq read lock, so the list cannot change under us. */
static int
ring_listed(struct rte_tailq_entry_head *head, const struct rte_ring *r)
{
	struct rte_tailq_entry *te;

	TAILQ_FOREACH(te, head, next)
		if (te->data == r)
			return 1;
	return 0;
}

/* Forget watched rings that are no longer listed. Caller holds the lock. */
static void
forget_unlisted(struct rte_tailq_entry_head *head, int i,
		const struct rte_ring *r)
{
	const struct rte_ring *expected = r;

	if (r != NULL && !ring_listed(head, r))
		__atomic_compare_exchange_n(&watched[i], &expected, NULL, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
}

/*
 * Instrumented mode does not wrap rte_ring_free(): a program that creates
 * and frees rings leaves dead entries, which the scanner forgets. When the
 * table is full before a scan came by, forget them here.
 */
static void
forget_freed(void)
{
	struct rte_tailq_entry_head *head =
		RTE_TAILQ_LOOKUP(RTE_TAILQ_RING_NAME, rte_tailq_entry_head);

	if (head == NULL)
		return;
	rte_mcfg_tailq_read_lock();
	for (int i = 0; i < MPA_RINGS_MAX; i++)
		forget_unlisted(head, i, __atomic_load_n(&watched[i],
							 __ATOMIC_ACQUIRE));
	rte_mcfg_tailq_read_unlock();
}

static int
watch_once(const struct rte_ring *r)
{
	int free_slot = -1;

	for (int i = 0; i < MPA_RINGS_MAX; i++) {
		const struct rte_ring *w = __atomic_load_n(&watched[i],
							   __ATOMIC_ACQUIRE);

		if (w == r)
			return 0;
		if (w == NULL && free_slot < 0)
			free_slot = i;
	}
	for (int i = free_slot < 0 ? MPA_RINGS_MAX : free_slot;
	     i < MPA_RINGS_MAX; i++) {
		const struct rte_ring *expected = NULL;

		if (__atomic_compare_exchange_n(&watched[i], &expected, r, 0,
						__ATOMIC_ACQ_REL,
						__ATOMIC_ACQUIRE))
			return 0;
	}
	return -ENOSPC;
}

int
mpa_ring_watch(const struct rte_ring *r)
{
	int rc;

	if (r == NULL || strncmp(r->name, RTE_MEMPOOL_MZ_PREFIX,
				 strlen(RTE_MEMPOOL_MZ_PREFIX)) == 0)
		return -EINVAL;
	rc = watch_once(r);
	if (rc == -ENOSPC) {
		forget_freed();
		rc = watch_once(r);
	}
	if (rc == 0)
		return 0;
	if (!__atomic_exchange_n(&full_logged, 1, __ATOMIC_RELAXED))
		MPA_LOG(WARNING, "cannot watch ring %s: already watching %d rings; objects in further rings are attributed by their stamps only",
			r->name, MPA_RINGS_MAX);
	return -ENOSPC;
}

void
mpa_ring_unwatch(const struct rte_ring *r)
{
	for (int i = 0; i < MPA_RINGS_MAX; i++) {
		const struct rte_ring *expected = r;

		__atomic_compare_exchange_n(&watched[i], &expected, NULL, 0,
					    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
	}
}

void
mpa_ring_unwatch_all(void)
{
	for (int i = 0; i < MPA_RINGS_MAX; i++)
		__atomic_store_n(&watched[i], NULL, __ATOMIC_RELEASE);
	full_logged = 0;
}

/*
 * struct rte_ring does not record its element size; its memzone does, in
 * effect: only a ring whose memory fits pointer-sized elements (and not
 * twice that) is read, so a slot read never leaves the ring's memory.
 * Rings built with rte_ring_init() in the caller's memory have no memzone
 * and are not read.
 */
static int
ring_of_pointers(const struct rte_ring *r)
{
	ssize_t lo = rte_ring_get_memsize_elem(sizeof(void *), r->size);
	ssize_t hi = rte_ring_get_memsize_elem(2 * sizeof(void *), r->size);

	return r->memzone != NULL && lo > 0 && hi > 0 &&
	       r->memzone->len >= (size_t)lo && r->memzone->len < (size_t)hi;
}

void
mpa_ring_foreach_obj(void (*fn)(const struct rte_ring *r, void *obj,
				 void *arg), void *arg)
{
	struct rte_tailq_entry_head *head;
	int any = 0;

	for (int i = 0; i < MPA_RINGS_MAX && !any; i++)
		any = __atomic_load_n(&watched[i], __ATOMIC_ACQUIRE) != NULL;
	if (!any)
		return;
	head = RTE_TAILQ_LOOKUP(RTE_TAILQ_RING_NAME, rte_tailq_entry_head);
	if (head == NULL)
		return;

	/*
	 * rte_ring_free() unlinks the ring under the tailq write lock before
	 * freeing its memory: a ring still listed while we hold the read lock
	 * stays readable until we release it.
	 */
	rte_mcfg_tailq_read_lock();
	for (int i = 0; i < MPA_RINGS_MAX; i++) {
		const struct rte_ring *r = __atomic_load_n(&watched[i],
							   __ATOMIC_ACQUIRE);
		uint32_t cons, n;
		const uint8_t *slots;

		if (r == NULL)
			continue;
		if (!ring_listed(head, r)) {
			forget_unlisted(head, i, r);
			continue;
		}
		if (!ring_of_pointers(r))
			continue;
		slots = (const uint8_t *)&r[1];
		n = mpa_ring_window(r, &cons);
		for (uint32_t k = 0; k < n; k++) {
			void *obj;

			memcpy(&obj, slots + (size_t)((cons + k) & r->mask) *
			       sizeof(void *), sizeof(obj));
			fn(r, obj, arg);
		}
	}
	rte_mcfg_tailq_read_unlock();
}
