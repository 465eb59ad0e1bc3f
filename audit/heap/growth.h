/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_GROWTH_H
#define MPA_GROWTH_H

/*
 * Heap growth: a leak a service still points at (a list nobody trims, a
 * cache without eviction) is reachable, so the reachability scan calls it
 * no leak. What gives it away is that it keeps growing. The control
 * thread samples the outstanding bytes of every (kind, stack) once a
 * period after a warm-up; a stack whose bytes grew across the window is a
 * leak whatever its class.
 */

#include <stdint.h>

#include "heap.h"

/** Samples kept per stack, and the least time between two. */
#define MPA_GROWTH_WINDOW 8
#define MPA_GROWTH_PERIOD_MS 1000
/** No sample before the heap has been tracked this long: start-up grows. */
#define MPA_GROWTH_WARMUP_MS 10000
/** No verdict before this many samples: some history past the window. */
#define MPA_GROWTH_MIN_SAMPLES (MPA_GROWTH_WINDOW + MPA_GROWTH_WINDOW / 2)

/** Take a sample if one is due (control thread, every tick). */
void mpa_growth_tick(uint32_t now_ms);

/**
 * Set `growing` in each of @p g[0..n) whose (kind, stack) grew: every
 * sample of the newer half of the window above every sample of the older
 * half and above every sample before the window.
 */
void mpa_growth_mark(struct mpa_heap_group *g, int n);

/**
 * The rule, on one stack's window @p w (oldest first) and the highest
 * sample before it, @p peak: 1 if growing. Pure.
 */
int mpa_growth_rule(const uint64_t w[MPA_GROWTH_WINDOW], uint64_t peak);

/** Samples taken so far (for the report). */
uint32_t mpa_growth_samples(void);

#endif /* MPA_GROWTH_H */
