/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_GUARD_H
#define MPA_GUARD_H

/*
 * The auditor's own-work guard. A thread inside mpa_guard_enter() ...
 * mpa_guard_leave() is doing the auditor's work: what it allocates is the
 * auditor's, so heap tracking records it as internal and never reports
 * it. It lives in core, not in heap/, because the pool registry and the
 * scanner mark their own work too and must not depend on heap tracking
 * being built in. Nesting is allowed; the depth is per thread.
 */

/* Depth of the auditor's own work on this thread; 0 outside. */
extern __thread int mpa_guard_depth __attribute__((tls_model("initial-exec")));

/** Mark the calling thread as doing the auditor's work. */
static inline void
mpa_guard_enter(void)
{
	mpa_guard_depth++;
}

/** End what mpa_guard_enter() started. */
static inline void
mpa_guard_leave(void)
{
	mpa_guard_depth--;
}

#endif /* MPA_GUARD_H */
