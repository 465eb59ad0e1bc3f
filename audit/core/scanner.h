/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SCANNER_H
#define MPA_SCANNER_H

/*
 * Who runs the scans. A control thread always runs: it republishes the
 * coarse clock every MPA_CLOCK_TICK_MS and, by default, scans every
 * scan_ms. The auditor also registers a DPDK service, "mpaudit_scan"; when
 * the application maps it to a service lcore, the service scans instead and
 * the thread only keeps the clock. The service rate-limits itself to the
 * scan period, since a service lcore spins.
 */

#include <stdint.h>

/*
 * What the control thread does besides scanning. Core knows nothing of
 * the surfaces (signals, periodic report) or of heap tracking: the code
 * that wires the auditor together passes them in here.
 */
struct mpa_scanner_hooks {
	/** Once, first thing on the control thread (may be NULL). */
	void (*thread_start)(void);
	/** Every MPA_CLOCK_TICK_MS on the control thread (may be NULL). */
	void (*tick)(uint32_t now_ms);
};

/**
 * Start the control thread and register the service.
 *
 * @param h  hooks, copied; NULL for none.
 * @return 0, or a negative errno value (the thread could not start).
 */
int mpa_scanner_start(uint32_t scan_ms, uint32_t stuck_ms,
		      const struct mpa_scanner_hooks *h);

/**
 * Change the scan period and the stuck threshold of a running scanner,
 * from the next scan on (0 stops periodic scans). Caller holds the pool
 * registry lock, which every scan runs under.
 */
void mpa_scanner_set_locked(uint32_t scan_ms, uint32_t stuck_ms);

/** Stop both; waits for a running scan to end. Safe if never started. */
void mpa_scanner_stop(void);

#endif /* MPA_SCANNER_H */
