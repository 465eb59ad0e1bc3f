/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPAUDIT_H
#define MPAUDIT_H

/**
 * @file
 * mpaudit control API: attach the auditor to mempools, run scans, and
 * produce reports.
 *
 * Everything here is control plane. It may take locks and allocate, and it
 * must not be called from a datapath loop. The per-object stamping lives in
 * mpaudit_stamp.h and is reached through mpaudit_override.h.
 *
 * Thread safety: every function may be called from any EAL or non-EAL
 * thread after rte_eal_init(); calls serialise on one internal lock.
 *
 * Failure policy: the auditor never harms its host. Bad configuration
 * leaves the auditor disabled (mpa_enabled() returns 0) and the application
 * running unaudited; running out of memory disables auditing of the pool
 * concerned, or of everything, with a log line saying so.
 */

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct rte_mempool;

/** Exit status: nothing found. */
#define MPA_EXIT_CLEAN 0
/** Exit status: the tool itself failed. */
#define MPA_EXIT_FAILED 1
/** Exit status: usage error (bad arguments or configuration). */
#define MPA_EXIT_USAGE 2
/** Exit status: the audit found leaks, stuck objects or free errors. */
#define MPA_EXIT_FOUND 3

/** Default age beyond which a held object is reported stuck. */
#define MPA_DEFAULT_STUCK_MS 5000u
/** Default period between two scans. */
#define MPA_DEFAULT_SCAN_MS 1000u

/** Auditor configuration; see mpa_config_from_env(). */
struct mpa_config {
	uint32_t stuck_ms;   /**< MPAUDIT_STUCK_MS: stuck threshold, >= 1 */
	uint32_t scan_ms;    /**< MPAUDIT_SCAN_MS: scan period; 0 = no periodic scan */
	char report_path[4096]; /**< MPAUDIT_REPORT: JSON report path, "" = none */
	int summary;         /**< MPAUDIT_SUMMARY: print the exit summary (default 1) */
	/*
	 * Heap tracking (zero-recompile mode), see mpaudit_heap.h. Read only:
	 * the tracker records from the process's first allocation, long
	 * before any API call, so it takes these from the environment when
	 * libmpaudit_preload.so loads. mpa_config_from_env() fills them and
	 * mpa_init_with() ignores them.
	 */
	unsigned int heap;   /**< MPAUDIT_HEAP: bit 0 libc, bit 1 rte_malloc; 0 = off */
	uint32_t heap_depth; /**< MPAUDIT_HEAP_DEPTH: stack frames kept, 1..64 */
	int heap_manual;     /**< MPAUDIT_HEAP_TRACK: 0 = from rte_eal_init, 1 = manual */
	uint32_t heap_max_mb; /**< MPAUDIT_HEAP_MAX_MB: cap on the tracker's memory */
	int dump_signal;     /**< MPAUDIT_DUMP_SIGNAL: dump on this signal, 0 = off */
	int track_signal;    /**< MPAUDIT_TRACK_SIGNAL: toggle tracking, 0 = off */
	/**
	 * MPAUDIT_REPORT_MS: rewrite the report (atomically) this often, so
	 * that a process killed with SIGKILL or crashing leaves its last
	 * report; 0 = only at exit, on a stop signal and on dump. Default
	 * 10000, at most 3600000. Needs report_path.
	 */
	uint32_t report_ms;
	/**
	 * MPAUDIT_HISTORY_SCANS: scans kept per pool for the drain rate and
	 * the time to exhaustion (about 20 bytes each); 0 = no history.
	 * Default 3600, at most 1000000.
	 */
	uint32_t history_scans;
	/**
	 * MPAUDIT_PCAP_DIR: the only directory /mpaudit/pcap,NAME writes the
	 * stuck mbufs to (NAME.pcap and NAME.json); an absolute path, "" =
	 * pcap off (the default).
	 */
	char pcap_dir[4096];
	/**
	 * MPAUDIT_HISTORY: previous stamps kept per object (holder, lcore
	 * and time each), shown for the sample objects of the stuck groups;
	 * 0 = none (the default), at most the 4 that fit in a mempool object
	 * header (3 with DPDK's mempool debug). Objects of pools created
	 * with RTE_MEMPOOL_F_NO_CACHE_ALIGN keep none.
	 */
	uint32_t history;
};

/**
 * Fill @p cfg with the defaults, then apply the MPAUDIT_* environment
 * variables.
 *
 * @param cfg
 *   Configuration to fill.
 * @param err
 *   Buffer for a one-line message naming the bad variable, or NULL.
 * @param errlen
 *   Size of @p err.
 * @return
 *   0 on success, -EINVAL if a variable is unknown or its value invalid
 *   (@p cfg then holds the defaults).
 */
int mpa_config_from_env(struct mpa_config *cfg, char *err, size_t errlen);

/**
 * Start the auditor: read the configuration from the environment, attach
 * every existing mempool, follow mempool creation and destruction, and start
 * the scanner. Must be called after rte_eal_init(); mpaudit_override.h does
 * this for the application. Calling it twice is harmless.
 *
 * @return
 *   0 on success (also when the configuration was rejected: the auditor is
 *   then disabled and the reason logged), negative errno if the auditor could
 *   not start at all (it is then disabled).
 */
int mpa_init(void);

/**
 * Start the auditor with an explicit configuration instead of the
 * environment. Fill @p cfg with mpa_config_from_env() first and change
 * what you need: the heap_* fields are ignored (see struct mpa_config).
 *
 * @param cfg
 *   Configuration; copied.
 * @return
 *   0 on success, -EINVAL for a bad configuration, negative errno on other
 *   failures. In every failure case the auditor is disabled.
 */
int mpa_init_with(const struct mpa_config *cfg);

/**
 * Stop the auditor: run a final scan, write the JSON report (if configured)
 * and print the human summary. Idempotent: later calls return the first
 * result. Called automatically from rte_eal_cleanup() in instrumented mode
 * and at process exit.
 *
 * @return
 *   MPA_EXIT_CLEAN, MPA_EXIT_FOUND, or MPA_EXIT_FAILED if the auditor
 *   could not produce a report.
 */
int mpa_fini(void);

/** @return 1 if the auditor is running and stamping, 0 otherwise. */
int mpa_enabled(void);

/**
 * Audit a mempool. Pools are attached automatically when they become ready;
 * this is for pools created before mpa_init() or detached by hand.
 *
 * @param mp
 *   A fully populated mempool.
 * @return
 *   0 on success or if already attached; -EINVAL if @p mp is NULL or not
 *   populated; -ENOMEM if the auditor's tables do not fit (the pool stays
 *   unaudited); -ENOSPC if too many pools are attached.
 */
int mpa_pool_attach(struct rte_mempool *mp);

/**
 * Stop auditing a mempool. Called automatically before a pool is freed.
 *
 * @return
 *   0 on success, -ENOENT if the pool was not attached.
 */
int mpa_pool_detach(struct rte_mempool *mp);

/**
 * Run one scan of every attached pool now, from the calling thread.
 *
 * @return
 *   Number of stuck objects found, or negative errno.
 */
int mpa_scan_run(void);

/**
 * Write the JSON report of the latest scan.
 *
 * @param path
 *   File to write; NULL means the configured MPAUDIT_REPORT path.
 * @return
 *   0 on success, -EINVAL if no path is known, negative errno on I/O error.
 */
int mpa_report_write(const char *path);

/**
 * Print the human-readable summary of the latest scan (per pool in_use,
 * free and stuck, then the stuck groups) to @p f.
 *
 * @return
 *   Number of stuck objects listed.
 */
int mpa_report_print(FILE *f);

#ifdef __cplusplus
}
#endif

#endif /* MPAUDIT_H */
