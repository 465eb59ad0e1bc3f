/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * The stamping thread's lcore id, read cheaply from inside libmpaudit
 * (mpa_lcore_id() in mpaudit_stamp.h, built with MPA_LCORE_CACHED).
 *
 * rte_lcore_id() reads EAL's thread-local per_lcore__lcore_id. In the
 * application that is one load; in a shared object it is general-dynamic
 * TLS, a call to __tls_get_addr() at every read, and the preload's burst
 * wrappers read it at every rx and tx burst (docs/performance.md). The
 * address of a thread's variable never changes, so it is looked up once
 * per thread and kept in this object's own initial-exec TLS: afterwards a
 * read is two loads.
 */

#include <rte_lcore.h>

#include "mpaudit_stamp.h"

__thread unsigned int *mpa_t_lcore_addr;

unsigned int *
mpa_lcore_addr_slow(void)
{
	mpa_t_lcore_addr = &RTE_PER_LCORE(_lcore_id);
	return mpa_t_lcore_addr;
}
