/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_CLOCK_H
#define MPA_CLOCK_H

/*
 * The coarse clock. Stamps read mpa_clock_ms (one shared load per call,
 * no rdtsc per object); the scanner thread republishes it every
 * MPA_CLOCK_TICK_MS, so stamp times are at most one tick stale.
 */

#include <stdint.h>

/** Read the monotonic clock in ms (truncated to 32 bits) and publish it. */
uint32_t mpa_clock_update(void);

/** Monotonic clock in ms, not published. */
uint32_t mpa_clock_read(void);

/** Monotonic clock in ns, for timing the auditor's own work. */
uint64_t mpa_clock_ns(void);

#endif /* MPA_CLOCK_H */
