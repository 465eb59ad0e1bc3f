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
 * stray (or, if it belongs to another tracked pool, foreign) free. Both
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
 * Notes on locking:
 * - hook_lock (opshook.c, a mutex) guards the tracked-pool table against
 *   concurrent READY/DESTROY events, start and stop. It is taken on no
 *   datapath and never together with registry_lock (pool.c).
 * - The wrappers read the table with atomic loads and update the bitmaps
 *   with relaxed atomic loads and stores; a pool removed at DESTROY is freed
 *   MPA_POOL_RETIRE_MS later, like the registry's.
 */

/** Unverifiable double frees after which a pool is no longer checked. */
#define MPA_HOOK_STALE_MAX 8
/** Objects compacted at a time on the stack when a batch is filtered. */
#define MPA_HOOK_FILTER_CHUNK 64

/**
 * Swap the ring-based mempool ops for the wrappers, follow pool creation
 * and destruction, and track the pools that exist already (from a snapshot
 * of their rings: call this while no lcore runs the datapath, i.e. right
 * after rte_eal_init()). Idempotent.
 *
 * @return
 *   0 on success (also when no ring-based ops exist), negative errno if
 *   mempool events cannot be followed (the ops are then left untouched).
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
