/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_LIFECYCLE_H
#define MPA_LIFECYCLE_H

#include "mpaudit.h"
#include "core/state.h"

/*
 * Internal side of the auditor's lifecycle (mpaudit.c), for the modes that
 * start it: instrumented (mpa_eal_init) and zero-recompile (preload.c).
 */

/** mpa_init() reading MPAUDIT_* from the environment, in mode @p mode. */
int mpa_init_mode(const char *mode);

/**
 * Scan now, write the JSON report (if MPAUDIT_REPORT is set) and print the
 * summary on stderr: the dump signal's action, and mpa_heap_dump().
 */
int mpa_dump_now(void);

/**
 * A stop signal @p sig arrived (control thread): what the dump does, the
 * report named "signal NAME". The summary is printed only without a
 * report file; with one, a line says where it went.
 */
void mpa_stop_report(int sig);

/**
 * Rewrite the report if MPAUDIT_REPORT_MS has passed since the last time
 * (control thread, at @p now_ms of the coarse clock).
 */
void mpa_report_tick(uint32_t now_ms);

/**
 * Nonzero once the auditor has started, also in a DPDK secondary process,
 * where it runs without pool auditing (mpa_enabled() is 0 there).
 */
int mpa_started(void);

#endif /* MPA_LIFECYCLE_H */
