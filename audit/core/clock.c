/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <time.h>

#include "clock.h"
#include "mpaudit_stamp.h"

volatile uint32_t mpa_clock_ms;

uint32_t
mpa_clock_read(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint32_t)((uint64_t)ts.tv_sec * 1000u +
			  (uint64_t)ts.tv_nsec / 1000000u);
}

uint32_t
mpa_clock_update(void)
{
	uint32_t now = mpa_clock_read();

	mpa_clock_ms = now;
	return now;
}

uint64_t
mpa_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
