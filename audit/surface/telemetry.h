/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_TELEMETRY_H
#define MPA_TELEMETRY_H

#include <rte_telemetry.h>

/*
 * The /mpaudit/ commands of DPDK's telemetry socket (docs/telemetry.md).
 * Handlers run on DPDK's telemetry threads, one per connected client, so
 * several may run at once: each takes the registry lock for the auditor's
 * state, as the other control functions do.
 *
 * Every reply fits DPDK's limits (16 KiB, 256 dict entries, 512 array
 * entries) by construction: lists are paginated with a fixed number of
 * entries per page whose worst-case size is checked at compile time, and
 * strings are clipped visibly ("..."). A bad request gets a dict with
 * "error", "code" and "usage", never a crash.
 */

/**
 * Register the /mpaudit/ commands. Idempotent: DPDK 22.11 accepts the same
 * name twice (and would list it twice), so each command is registered once
 * per process, however often the auditor starts. When the process also
 * holds libmpaudit.so and this is the preload's private copy of the code,
 * the library's copy answers and this one registers nothing.
 *
 * @param act  what the commands that act run, copied: the lifecycle
 *   owns them, the surface only asks.
 * @return 0, or negative errno if a command could not be registered (the
 *   others are, and the auditor runs on; a later call retries).
 */
struct mpa_telemetry_actions {
	/**
	 * /mpaudit/dump: scan, write the report and print the summary.
	 * @return 0, -ENODEV when not running, or a negative errno.
	 */
	int (*dump)(void);
	/**
	 * /mpaudit/config: run with this stuck threshold and scan period
	 * from the next scan on; the values are already validated.
	 * @return 0, or -ENODEV when not running.
	 */
	int (*set_timing)(uint32_t stuck_ms, uint32_t scan_ms);
};

int mpa_telemetry_register(const struct mpa_telemetry_actions *act);

/**
 * Run one /mpaudit/ command in this thread, as the telemetry socket would:
 * for the fuzz tests, which feed the handlers parameter strings without a
 * socket in between.
 *
 * @param name  the command, e.g. "/mpaudit/pools"
 * @param params  its parameters as DPDK passes them (NULL for none)
 * @param d  the reply, from rte_tel_data_alloc()
 * @return the handler's result, or -ENOENT for an unknown name.
 */
int mpa_telemetry_call(const char *name, const char *params,
		       struct rte_tel_data *d);

#endif /* MPA_TELEMETRY_H */
