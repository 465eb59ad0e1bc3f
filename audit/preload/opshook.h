/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_OPSHOOK_H
#define MPA_OPSHOOK_H

/*
 * Mempool ops hook (zero-recompile mode): the enqueue and dequeue function
 * pointers of every ring-based entry of DPDK's exported
 * rte_mempool_ops_table are swapped for wrappers that call the originals.
 * This takes no ops slot (only two of RTE_MEMPOOL_MAX_OPS_IDX are left on
 * Debian) and keeps ops indices identical across processes.
 *
 * The wrappers see every object that enters or leaves a pool's ring: cache
 * flushes and refills, and every put/get of a pool without a cache. They
 * keep, per pool, one byte per object meaning "in the pool's ring", set at
 * enqueue and cleared at dequeue. An object enqueued while its mark is set
 * is a double free; an address that is not an object of the pool is a
 * stray (or, if it belongs to another audited pool, foreign) free. Both
 * are reported through mpa_error_report() and dropped from the batch, so
 * the pool never holds an object twice. Objects accepted get the bare
 * "free" stamp, so one later taken by code that stamps nothing (a driver
 * refilling RX descriptors) is recognised as such by the scanner.
 *
 * Limits:
 * - Objects that never leave a per-lcore cache are not seen: a double
 *   free is caught when the cache is flushed, not when it happens, and is
 *   missed if the object is allocated again from the cache before.
 * - Two lcores freeing the same object at the same instant may both get
 *   it through (marks are tested and set without a locked instruction,
 *   which would cost more than the rest of the wrapper).
 * - A pool shared with another process that is not hooked (multi-process
 *   applications) changes behind our back. A double free is therefore
 *   dropped only when the object is verifiably in the ring (or earlier in
 *   the same batch); after MPA_HOOK_STALE_MAX unverifiable ones the pool's
 *   checking is switched off, with a log line.
 *
 * The pools are the registry's (pool.c): the hook keeps its marks as the
 * registry pool's extension data (mpa_pool_ext_ops), made when the
 * registry attaches a pool of hooked ops and freed with the pool. So a
 * pool is checked only while it is audited, and a free into one pool of
 * an object of another audited pool is a foreign free.
 *
 * Notes on locking:
 * - Start, stop and the attach of marks run under the registry lock.
 * - The wrappers find the pool with mpa_pool_find() (atomic loads) and
 *   update the marks with relaxed atomic loads and stores; a detached
 *   pool and its marks are freed MPA_POOL_RETIRE_MS later.
 */

/** Unverifiable double frees after which a pool is no longer checked. */
#define MPA_HOOK_STALE_MAX 8
/** Objects compacted at a time on the stack when a batch is filtered. */
#define MPA_HOOK_FILTER_CHUNK 64

/**
 * Swap the ring-based mempool ops for the wrappers and mark the objects in
 * the rings of the pools audited already (call this while no lcore runs
 * the datapath, i.e. right after rte_eal_init()); pools attached later get
 * marks at attach. Idempotent.
 *
 * @return
 *   0 (also when no ring-based ops exist: frees are then not checked).
 */
int mpa_opshook_start(void);

/**
 * Put the original ops back and stop following pools. Tracking state is
 * not freed: a wrapper may still be running on another lcore.
 */
void mpa_opshook_stop(void);

/** Number of pools whose frees are checked (for tests and logs). */
unsigned int mpa_opshook_pools(void);

#endif /* MPA_OPSHOOK_H */
