/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_REPORT_H
#define MPA_REPORT_H

/*
 * Reports: the JSON document of PRODUCT.md, the human summary, and the log
 * lines. All three render the query layer's view (query/query.h) of the
 * result they are given, and a holder through the same functions, so
 * they always agree. Callers hold the registry lock.
 */

#include <stdio.h>

#include <jansson.h>

#include "mpaudit.h"
#include "core/scan.h"
#include "query/query.h"

/**
 * Age from which outstanding heap allocations are reported: 0 at exit,
 * the stuck threshold while the application runs.
 */
void mpa_report_heap_age(uint32_t min_age_ms);

/**
 * Set what holder @p h says on @p o, as the report's stuck groups say it:
 * pool, state, lcore, port, queue, ring, site, function, null where they
 * do not apply. Also the pcap sidecar's packets.
 */
void mpa_report_holder_json(json_t *o, const struct mpa_query_holder *h);

/** MPA_EXIT_FOUND if @p r has stuck objects, or heap leaks or free errors were seen. */
int mpa_report_exit_code(const struct mpa_scan_result *r);

/** Log every group that gained newly stuck objects at this scan. */
void mpa_report_log_new(const struct mpa_scan_result *r);

/**
 * Log the newly stuck objects mpa_report_log_new() held back (a holder is
 * logged at most every 10 s), so that every stuck object has been logged
 * once; at a stop's report. Caller holds the registry lock.
 */
void mpa_report_log_flush(void);

/** Forget which holders were logged (auditor shutdown). */
void mpa_report_log_forget(void);

/** Stop paths, as the report's summary names them. */
#define MPA_STOP_EXIT "exit"           /* mpa_fini: exit, rte_eal_cleanup */
#define MPA_STOP_PERIODIC "periodic"   /* MPAUDIT_REPORT_MS rewrite */
#define MPA_STOP_DUMP "dump"           /* dump signal, telemetry, API */
/* A stop signal's report says "signal SIGTERM" (mpa_stop_report()). */

/**
 * What produced the next reports: @p why (one of the MPA_STOP_* names or
 * "signal NAME"), and @p signal, the stop signal received before, or
 * NULL. Copied; "exit" and no signal until first set.
 */
void mpa_report_set_stop(const char *why, const char *signal);

/** Build the JSON report. @return a new reference, or NULL (no memory). */
json_t *mpa_report_json(const struct mpa_scan_result *r,
			const struct mpa_scan_stats *st,
			const struct mpa_config *cfg);

/** Write the JSON report atomically (temporary file + rename). */
int mpa_report_write_file(const char *path, const struct mpa_scan_result *r,
			  const struct mpa_scan_stats *st,
			  const struct mpa_config *cfg);

/** Print the human summary. @return stuck objects listed. */
int mpa_report_print_summary(FILE *f, const struct mpa_scan_result *r,
			     const struct mpa_scan_stats *st,
			     const struct mpa_config *cfg);

#endif /* MPA_REPORT_H */
