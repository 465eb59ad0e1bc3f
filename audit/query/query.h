/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_QUERY_H
#define MPA_QUERY_H

/**
 * @file
 * The one read path of every surface. The JSON report, the human
 * summary, the log lines, telemetry and the pcap sidecar do not walk the
 * scan result, the holder table, the free errors or the heap table
 * themselves: they render a struct mpa_query, copied out once under the
 * locks, so a field is computed in one place and two outputs taken from
 * one view cannot disagree.
 *
 * The view is plain C (no jansson, no rte_tel_data): the report renders
 * it with jansson, telemetry with rte_tel_data.
 *
 * Notes on locking:
 * - mpa_query_take() takes the auditor's own-work guard (core/guard.h)
 *   and the registry lock (core/pool.h) once, copies, and releases both:
 *   the caller renders without holding anything.
 * - mpa_query_take_locked() and mpa_query_from_result() are for callers
 *   that hold the registry lock already (the lifecycle's report paths,
 *   the scan's newly-stuck callback) or render a result of their own
 *   (unit tests); they take the guard only.
 * - Heap groups are computed under the registry lock, as the reports
 *   always did (registry lock, then the heap table's). Their strings
 *   (owner, type, memzone) and the site strings of holders point into
 *   tables that live as long as the process, not into the view.
 */

#include <stdint.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "core/errors.h"
#include "core/group.h"
#include "core/history.h"
#include "core/scan.h"
#include "heap/heap.h"
#include "heap/reach.h"

/** Parts of the view to copy (the pools and the scan figures always are). */
#define MPA_QUERY_GROUPS (1u << 0)
#define MPA_QUERY_ERRORS (1u << 1)
#define MPA_QUERY_SITES (1u << 2)
#define MPA_QUERY_HEAP (1u << 3)
#define MPA_QUERY_ALL (MPA_QUERY_GROUPS | MPA_QUERY_ERRORS | MPA_QUERY_HEAP)

/** Heap age of mpa_query_take(): the one the reports use (mpa_query_heap_age()). */
#define MPA_QUERY_HEAP_AGE_REPORT UINT32_MAX

/** Heap age of mpa_query_take(): the stuck threshold in force. */
#define MPA_QUERY_HEAP_AGE_THRESHOLD (UINT32_MAX - 1)

/** Pools a view holds: the audited ones and the destroyed ones kept. */
#define MPA_QUERY_POOLS_MAX (MPA_POOLS_MAX + MPA_RETIRED_MAX)

/**
 * Who holds objects, resolved from a holder id: what a stuck group, a
 * site row and a captured packet all say. Fields that do not apply are
 * -1 or NULL (the report's null, telemetry's left-out field).
 */
struct mpa_query_holder {
	char pool[RTE_MEMPOOL_NAMESIZE]; /**< "" where no pool applies (sites) */
	uint8_t state;                   /**< MPA_ST_* */
	int lcore;                       /**< -1: not known */
	int port;                        /**< -1: not applicable */
	int queue;                       /**< -1 with port */
	int has_ring;                    /**< ring is the holder (state ring) */
	char ring[RTE_RING_NAMESIZE];
	const char *file;                /**< NULL: no site; as shown */
	unsigned int line;
	const char *func;                /**< NULL: not known */
};

/**
 * A previous holder of a sample object (MPAUDIT_HISTORY): who had it
 * before, and since how long before the scan. The holder's pool is "".
 */
struct mpa_query_prev {
	struct mpa_query_holder h;
	int32_t age_ms;
};

/** A stuck group. */
struct mpa_query_group {
	struct mpa_query_holder h;
	uint32_t count;
	uint32_t new_count;      /**< first stuck at this scan */
	int32_t max_age_ms;
	uint32_t nsamples;
	uintptr_t samples[MPA_GROUP_SAMPLES];
	/*
	 * With the view's objhist_k > 0: sample s's previous holders, most
	 * recent first, are prev[s * MPA_OBJHIST_CAP + 0 .. nprev[s]).
	 */
	uint32_t nprev[MPA_GROUP_SAMPLES];
	const struct mpa_query_prev *prev;  /**< NULL without history */
};

/** A holder of objects in use, stuck or not (core/sites.h). */
struct mpa_query_site {
	struct mpa_query_holder h;
	uint32_t held;
	uint32_t stuck;
	uint32_t max_age_ms;
};

/** A kept free error; @p present is 0 for one being recorded right now. */
struct mpa_query_error {
	int present;
	struct mpa_error e;
};

struct mpa_query {
	unsigned int what;              /**< MPA_QUERY_* copied */
	/* The scan. */
	int valid;                      /**< a scan has run */
	uint32_t stuck_ms;              /**< threshold the scan used */
	uint32_t threshold_ms;          /**< threshold in force (take only) */
	struct mpa_scan_stats stats;
	uint32_t npools;
	struct mpa_result_pool pools[MPA_QUERY_POOLS_MAX];
	uint32_t stuck;                 /**< stuck objects, all pools */
	uint32_t ngroups;
	uint32_t ungrouped;             /**< objects not grouped: table full */
	struct mpa_query_group *groups; /**< MPA_QUERY_GROUPS */
	/*
	 * MPAUDIT_HISTORY of the scan: 0, the surfaces show no history at
	 * all; else each group's samples carry their previous holders.
	 */
	uint32_t objhist_k;
	struct mpa_query_prev *prevs;   /**< the groups' prev, one array */
	/* MPA_QUERY_SITES */
	int sites_counted;
	uint32_t nsites;
	uint32_t holders;
	uint64_t held;
	uint64_t unlisted;
	struct mpa_query_site *sites;
	/* Free errors: the count always, the kept ones with MPA_QUERY_ERRORS. */
	uint64_t errors;                /**< recorded, also beyond those kept */
	uint32_t nerrors;               /**< kept: min(errors, MPA_ERRORS_MAX) */
	struct mpa_query_error *errorv;
	/* MPA_QUERY_HEAP: groups of allocations at least heap_age_ms old. */
	uint32_t heap_age_ms;
	int heap_rc;                    /**< 0, or mpa_reach_groups()'s error */
	int nheap;
	int heap_leaks;                 /**< leak groups among them */
	struct mpa_heap_group *heap;
	struct mpa_reach_stats heap_scan;
};

/**
 * Age from which outstanding heap allocations are reported: 0 at exit,
 * the stuck threshold while the application runs. Caller holds the
 * registry lock (the lifecycle sets it before a report).
 */
void mpa_query_heap_age(uint32_t min_age_ms);

/** The age mpa_query_heap_age() set. */
uint32_t mpa_query_report_heap_age(void);

/**
 * Resolve holder @p holder of objects in state @p state, taken by
 * @p lcore (MPA_LCORE_NONE: not known), of pool @p pool (NULL: none).
 */
void mpa_query_holder(struct mpa_query_holder *h, const char *pool,
		      uint8_t state, uint8_t lcore, uint32_t holder);

/** Resolve the holder of group @p g of result @p r. */
void mpa_query_group_holder(struct mpa_query_holder *h,
			    const struct mpa_scan_result *r,
			    const struct mpa_group *g);

/**
 * Copy @p what of result @p r and statistics @p st (NULL: zero) into
 * @p q; the free errors and the heap groups come from their tables.
 * Caller holds the registry lock or owns @p r.
 * @return 0, or -ENOMEM (@p q is then empty but may be released).
 */
int mpa_query_from_result(struct mpa_query *q, const struct mpa_scan_result *r,
			  const struct mpa_scan_stats *st, unsigned int what,
			  uint32_t heap_age_ms);

/**
 * The latest scan's view; caller holds the registry lock.
 * @p heap_age_ms: MPA_QUERY_HEAP_AGE_REPORT, _THRESHOLD, or an age in ms.
 * @return 0 or -ENOMEM.
 */
int mpa_query_take_locked(struct mpa_query *q, unsigned int what,
			  uint32_t heap_age_ms);

/** mpa_query_take_locked() under the guard and the registry lock. */
int mpa_query_take(struct mpa_query *q, unsigned int what,
		   uint32_t heap_age_ms);

/** Free what a view holds; accepts a zeroed or half-built view. */
void mpa_query_release(struct mpa_query *q);

/** MPA_EXIT_FOUND if the view has stuck objects, free errors or heap leaks. */
int mpa_query_exit_code(const struct mpa_query *q);

/**
 * The threshold in force (it may have changed since the latest scan);
 * once stopped, the one the latest scan used. Caller holds the lock.
 */
uint32_t mpa_query_threshold_ms_locked(void);

/** Scans run so far (mpa_scan_stats()), under the registry lock. */
uint64_t mpa_query_scans(void);

/** One pool's history and its forecast, oldest sample first. */
struct mpa_query_history {
	char pool[RTE_MEMPOOL_NAMESIZE];
	uint32_t size;
	uint64_t scans;
	uint32_t n;
	uint32_t newest_ms;             /**< clock of the newest sample */
	struct mpa_forecast forecast;
	struct mpa_hist_sample *v;      /**< n samples */
};

/**
 * Copy the history of the audited pool named @p name.
 * @return 0, -ENOENT (no such audited pool), -ENOMEM.
 */
int mpa_query_history(struct mpa_query_history *h, const char *name);

/** Free what mpa_query_history() copied; accepts a zeroed one. */
void mpa_query_history_release(struct mpa_query_history *h);

#endif /* MPA_QUERY_H */
