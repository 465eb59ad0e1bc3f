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

/** Start the control thread and register the service. */
int mpa_scanner_start(uint32_t scan_ms, uint32_t stuck_ms);

/** Stop both; waits for a running scan to end. Safe if never started. */
void mpa_scanner_stop(void);

#endif /* MPA_SCANNER_H */
