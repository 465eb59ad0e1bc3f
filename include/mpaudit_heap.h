/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPAUDIT_HEAP_H
#define MPAUDIT_HEAP_H

/**
 * @file
 * Heap tracking control: scoped tracking, named snapshots and their
 * differences, and an on-demand dump.
 *
 * Heap tracking (rte_malloc, rte_memzone and libc) runs in zero-recompile
 * mode, LD_PRELOAD=libmpaudit_preload.so, which defines these functions.
 * They are declared weak so that a program calls them without linking
 * anything: when the preload is absent they are NULL, so test first:
 *
 *   if (mpa_heap_snapshot != NULL)
 *           mpa_heap_snapshot("before");
 *
 * All may be called from any thread, not from a signal handler.
 * Configuration (environment): MPAUDIT_HEAP, MPAUDIT_HEAP_DEPTH,
 * MPAUDIT_HEAP_TRACK, MPAUDIT_HEAP_MAX_MB, MPAUDIT_DUMP_SIGNAL,
 * MPAUDIT_TRACK_SIGNAL; see README.md (Configuration) and docs/design.md.
 */

#ifdef __cplusplus
extern "C" {
#endif

/** Longest snapshot name, without the terminating NUL. */
#define MPA_HEAP_NAME_MAX 31
/** Snapshots kept at once. */
#define MPA_HEAP_SNAPSHOTS_MAX 16

/**
 * Start (@p on = 1) or stop (0) tracking, mtrace-style. Allocations made
 * while tracking is stopped are still recorded, so that their frees are
 * checked, but they are never reported and carry no stack.
 *
 * @return the previous state (0 or 1), or -ENOTSUP if heap tracking is
 *   not active in this process (not preloaded, disabled, or out of memory).
 */
int mpa_heap_track(int on) __attribute__((weak));

/**
 * Take a snapshot named @p name of the tracked allocations outstanding
 * now, per call stack. Names are 1..MPA_HEAP_NAME_MAX characters of
 * [A-Za-z0-9_.-]; "now" is reserved.
 *
 * @return 0, -EINVAL (bad name), -EEXIST, -ENOSPC (MPA_HEAP_SNAPSHOTS_MAX
 *   kept), -ENOMEM or -ENOTSUP.
 */
int mpa_heap_snapshot(const char *name) __attribute__((weak));

/**
 * Write, as JSON, what changed per call stack between snapshots @p from
 * and @p to ("now" or NULL: the outstanding allocations at this moment).
 *
 * @param path
 *   File to write, or NULL for standard output.
 * @return 0, -ENOENT (no such snapshot), -ENOTSUP or negative errno.
 */
int mpa_heap_diff_write(const char *from, const char *to, const char *path)
	__attribute__((weak));

/**
 * Dump the current state now: write the JSON report to MPAUDIT_REPORT if
 * set and print the summary on stderr, as the dump signal does (which
 * works whether or not heap tracking is on).
 *
 * @return 0, -ENOTSUP (heap tracking not active) or negative errno.
 */
int mpa_heap_dump(void) __attribute__((weak));

#ifdef __cplusplus
}
#endif

#endif /* MPAUDIT_HEAP_H */
