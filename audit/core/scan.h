/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SCAN_H
#define MPA_SCAN_H

/*
 * One scan: for every audited pool, snapshot the free objects, read every
 * object's stamp, classify it, and group the stuck ones by holder. The
 * result of the latest scan is kept for the reports.
 */

#include <stdint.h>

#include <rte_mempool.h>

#include "group.h"
#include "pool.h"
#include "sites.h"

struct mpa_result_pool {
	char name[RTE_MEMPOOL_NAMESIZE];
	uint32_t size;
	uint32_t in_use;
	uint32_t nfree;
	uint32_t stuck;
	const char *stamp_where;  /**< mpa_pool_stamp_where() */
	int have_free_set;
	uint32_t driver_held;     /**< stuck objects in state pmd */
	uint32_t driver_expected; /**< RX descriptors fed by this pool */
	int destroyed;            /**< freed while audited: its last scan */
	uint32_t objhist;         /**< previous stamps kept per object
				       (MPAUDIT_HISTORY; 0 for a side table) */
	struct mpa_forecast forecast; /**< from the pool's history */
};

/** Destroyed pools whose last scan is kept for the report. */
#define MPA_RETIRED_MAX 16

struct mpa_scan_stats {
	uint64_t scans;
	uint64_t objects;   /**< objects visited, all scans */
	uint64_t total_ns;
	uint64_t max_ns;
	uint64_t last_ns;
	uint64_t service_scans; /**< periodic scans run by the DPDK service */
	int last_by_service;    /**< who ran the latest periodic scan */
};

struct mpa_scan_result {
	int valid;              /**< a scan has run */
	uint32_t now_ms;        /**< clock at the scan */
	uint32_t stuck_ms;      /**< threshold used */
	uint32_t objhist_k;     /**< MPAUDIT_HISTORY in force */
	uint32_t npools;
	struct mpa_result_pool pools[MPA_POOLS_MAX + MPA_RETIRED_MAX];
	struct mpa_groups groups;
	uint32_t stuck;         /**< stuck objects, all pools */
	uint32_t new_stuck;     /**< of which first reported at this scan */
	struct mpa_sites sites; /**< held objects by holder (live pools) */
};

/**
 * Called after a scan (or a retirement scan) found newly stuck objects,
 * with the result that holds them, under the registry lock. Core does not
 * log reports itself: whoever wires the auditor together says how.
 */
typedef void (*mpa_scan_new_cb_t)(const struct mpa_scan_result *r);

/**
 * Scan every audited pool; caller holds the registry lock. Passes the
 * result to the mpa_scan_configure() callback when objects became stuck.
 * @return stuck objects found.
 */
int mpa_scan_locked(uint32_t stuck_ms);

/** Record who ran the periodic scan that just ended; caller holds the lock. */
void mpa_scan_note_runner(int by_service);

/**
 * Scan a pool about to be destroyed and keep the result for the reports;
 * caller holds the lock.
 */
void mpa_scan_retire_locked(struct mpa_pool *p);

/**
 * Threshold for mpa_scan_retire_locked() (0 turns retirement scans off)
 * and the callback for newly stuck objects (NULL for none).
 */
void mpa_scan_configure(uint32_t stuck_ms, mpa_scan_new_cb_t on_new);

/**
 * Keep @p scans samples of history per pool (0: none), from the next
 * scan on; caller holds the lock.
 */
void mpa_scan_set_history(uint32_t scans);

/** An object the latest scan found stuck. */
struct mpa_stuck_obj {
	const struct mpa_pool *pool;
	uint32_t idx;              /**< in the pool's sorted addresses */
	void *obj;                 /**< the object (an mbuf in an mbuf pool) */
	struct mpa_group_key key;  /**< its group: state, holder, lcore; pool
				        is the registry slot */
	uint32_t age_ms;
};

typedef void (*mpa_stuck_fn_t)(const struct mpa_stuck_obj *o, void *arg);

/**
 * Call @p fn for every object the latest scan found stuck in a live pool
 * (driver holdings aside), pool by pool in address order; caller holds
 * the registry lock and ran the scan under it. @return objects passed.
 */
uint32_t mpa_scan_foreach_stuck_locked(mpa_stuck_fn_t fn, void *arg);

/** Latest result and cumulative statistics; caller holds the lock. */
const struct mpa_scan_result *mpa_scan_result(void);
const struct mpa_scan_stats *mpa_scan_stats(void);

/** Forget results and statistics (auditor shutdown). */
void mpa_scan_reset(void);

#endif /* MPA_SCAN_H */
