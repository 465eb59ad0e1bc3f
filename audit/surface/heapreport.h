/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_HEAPREPORT_H
#define MPA_HEAPREPORT_H

/*
 * Rendering of the heap tracker's answers: JSON (report, diffs,
 * telemetry) and the human table. Stacks are symbolised here.
 */

#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "heap/heap.h"

struct mpa_reach_stats;

/** Symbolised frames of stack @p id, innermost first, at most @p max_frames. */
json_t *mpa_heap_stack_json(uint32_t id, uint32_t max_frames);

/** One `malloc` group of the report. */
json_t *mpa_heap_group_json(const struct mpa_heap_group *g, uint32_t max_frames);

/** The `malloc` array of groups @p g[0..n). */
json_t *mpa_heap_groups_json(const struct mpa_heap_group *g, int n);

/** The `heap.scan` object: classes, leak groups, what the scan read. */
json_t *mpa_heap_scan_json(const struct mpa_heap_group *g, int n,
			   const struct mpa_reach_stats *st);

/** The `heap` object: state, live counts, snapshots. */
json_t *mpa_heap_stats_json(void);

/**
 * Print the leak groups among @p g[0..n) (the query view's heap groups,
 * with the scan @p rs that classified them) as a table, then the classes.
 * @return leak groups.
 */
int mpa_heap_print(FILE *f, const struct mpa_heap_group *g, int n,
		   const struct mpa_reach_stats *rs);

/** The difference document; NULL with *rc = negative errno. */
json_t *mpa_heap_diff_json(const char *from, const char *to, int *rc);

#endif /* MPA_HEAPREPORT_H */
