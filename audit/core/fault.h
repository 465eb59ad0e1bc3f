/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_FAULT_H
#define MPA_FAULT_H

/*
 * Fault injection for the tests, after the kernel's failslab: the
 * environment variable MPA_FAULT_INJECT (not an MPAUDIT_ setting, and not
 * for users) names the auditor's own tables whose allocation must fail, so
 * the tests can check that each failure is answered with a log line and a
 * degraded, still running auditor:
 *
 *   pool_table    a pool's stamp and locator tables: the pool is not audited
 *   holder_table  the holder table is full from the start: holders are
 *                 reported by state only, without site, port or ring
 *   reach_scan    the heap reachability scan's copy of a region
 *   history       a pool's history ring: no drain forecast for it
 *   sites         the count of held objects per holder: no sites ranking
 *   dynfield      the mbuf dynamic field for the stamp: mbufs are stamped
 *                 in their header pad
 *
 * A comma-separated list; unknown names are ignored with a warning. Read
 * once, by mpa_fault_init(); with the variable unset every check is one
 * predicted branch on a global that is never written again.
 */

#include <rte_branch_prediction.h>

#define MPA_FAULT_POOL_TABLE   (1u << 0)
#define MPA_FAULT_HOLDER_TABLE (1u << 1)
#define MPA_FAULT_REACH_SCAN   (1u << 2)  /* the heap reachability scan's copy */
#define MPA_FAULT_HISTORY      (1u << 3)  /* a pool's history ring */
#define MPA_FAULT_SITES        (1u << 4)  /* the per-holder count of held objects */
#define MPA_FAULT_DYNFIELD     (1u << 5)  /* the stamp's mbuf dynamic field */

extern unsigned int mpa_faults;

/** Parse MPA_FAULT_INJECT (idempotent). */
void mpa_fault_init(void);

/** Nonzero if the test asked this table's allocation to fail. */
static inline int
mpa_fault(unsigned int table)
{
	return unlikely((mpa_faults & table) != 0);
}

#endif /* MPA_FAULT_H */
