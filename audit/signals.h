/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SIGNALS_H
#define MPA_SIGNALS_H

/*
 * The dump and track signals (MPAUDIT_DUMP_SIGNAL, MPAUDIT_TRACK_SIGNAL).
 * A handler only sets a flag: writing a report is not async-signal-safe.
 * The scanner's control thread, which ticks every MPA_CLOCK_TICK_MS,
 * polls the flags and does the work.
 */

#include "mpaudit.h"

/**
 * Install the handlers. A signal the application already handles is left
 * to it, with a warning. @return 0.
 */
int mpa_signals_start(const struct mpa_config *cfg);

/** Restore what was there before. */
void mpa_signals_stop(void);

/** Act on signals received since the last call (control thread). */
void mpa_signals_poll(void);

#endif /* MPA_SIGNALS_H */
