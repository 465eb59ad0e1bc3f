/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_REACH_H
#define MPA_REACH_H

/*
 * Reachability of the outstanding heap allocations, in the manner of
 * kmemleak: every allocation the heap tracker knows is "owned" when it is
 * the memory of a live DPDK object (mempool, ring, ethdev queue,
 * memzone), "reachable" when a conservative scan of the roots (writable
 * segments of the loaded modules, thread stacks and TLS, the EAL's named
 * object lists) and of the blocks found from them meets a pointer into
 * it, and "lost" otherwise. Only lost allocations are leaks. The scan and
 * its limits are described in docs/design.md.
 *
 * Control plane only (report, dump, telemetry); the thread registry
 * below is called by the preload's pthread_create() interposer.
 */

#include <stdint.h>

#include "heap.h"

/** What the last scan did (for the report's `heap.scan`). */
struct mpa_reach_stats {
	uint64_t ns;              /**< wall time of the scan */
	uint64_t records;         /**< records classified */
	uint64_t bytes_read;      /**< memory read: roots and blocks */
	uint64_t root_bytes;      /**< of which roots */
	uint32_t threads;         /**< thread stacks scanned */
	uint32_t modules;         /**< modules whose data was scanned */
	uint32_t unreadable;      /**< ranges that could not be read */
};

/**
 * Outstanding in-scope allocations at least @p min_age_ms old, grouped
 * by (kind, stack, class), leaks (lost) first: like mpa_heap_groups() but
 * each group carries its class and, for owned ones, the owner. A scan
 * younger than @p max_stale_ms is reused (a report asks several times).
 *
 * @param st
 *   If not NULL, filled with the figures of the scan used. If the scan
 *   cannot run (out of memory), the groups come unclassified.
 * @return number of groups (free() *out), or negative errno (-ENOTSUP:
 *   heap tracking off).
 */
int mpa_reach_groups(uint32_t min_age_ms, uint32_t max_stale_ms,
		     struct mpa_heap_group **out, struct mpa_reach_stats *st);

/** Staleness that report paths accept: one report, one scan. */
#define MPA_REACH_STALE_MS 1000

/**
 * Number of groups of @p g[0..n) that are leaks: lost, growing, or
 * unclassified (the scan could not run).
 */
int mpa_reach_leaks(const struct mpa_heap_group *g, int n);

/** 1 if group @p g is a leak (see mpa_reach_leaks()). */
int mpa_reach_is_leak(const struct mpa_heap_group *g);

/*
 * Thread registry: the stacks to scan. Called by the new thread itself
 * (pthread_create() interposer, heapwrap.c); never allocates.
 */

/** Register the calling thread's stack. @return a slot, or -1 if full. */
int mpa_reach_thread_enter(void);

/** Forget slot @p slot (thread exit or cancellation). */
void mpa_reach_thread_leave(int slot);

/** Note the main thread (its TLS is not in its stack); before main(). */
void mpa_reach_main_thread(void);

/*
 * Where the application's frames end on this thread. A scan run on an
 * application thread (exit, rte_eal_cleanup(), mpa_report_write()) reads
 * that thread's stack from there up only: the auditor's frames below are
 * full of stale words (uninitialised buffers over the dynamic linker's
 * register dumps, say) that would make leaks look reachable. A scan run
 * on any other thread of ours skips its stack altogether.
 *
 * MPA_REACH_APP_ENTRY() at the top of a public entry point marks the
 * frame for the call's duration (the outermost one wins).
 */
uintptr_t mpa_reach_app_enter(uintptr_t frame);
void mpa_reach_app_leave(uintptr_t *token);

#define MPA_REACH_APP_ENTRY() \
	uintptr_t mpa_reach_token_ __attribute__((cleanup(mpa_reach_app_leave), unused)) = \
		mpa_reach_app_enter((uintptr_t)__builtin_frame_address(0))

#endif /* MPA_REACH_H */
