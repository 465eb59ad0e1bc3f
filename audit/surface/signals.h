/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SIGNALS_H
#define MPA_SIGNALS_H

/*
 * The dump and track signals (MPAUDIT_DUMP_SIGNAL, MPAUDIT_TRACK_SIGNAL),
 * and the stop signals (SIGTERM, SIGINT, SIGHUP). A handler only sets a
 * flag: writing a report is not async-signal-safe. The scanner's control
 * thread, which ticks every MPA_CLOCK_TICK_MS, polls the flags and does
 * the work. A stop signal's handler then waits for that report, at most
 * MPA_STOP_WAIT_MS, and calls what handled the signal before us (the
 * application's handler, or the default action).
 */

#include "mpaudit.h"

/** Stop signals chained: SIGTERM, SIGINT, SIGHUP. */
#define MPA_STOP_SIGNALS 3
/** How long a stop signal's handler waits for the report. */
#define MPA_STOP_WAIT_MS 3000

/*
 * What a signal makes the auditor do, run by mpa_signals_poll() on the
 * control thread. The lifecycle that installs the handlers passes them,
 * so this surface never calls back into it by name.
 */
struct mpa_signals_actions {
	/** The dump signal: scan, write the report, print the summary. */
	int (*dump)(void);
	/** A stop signal @p sig: the report named "signal NAME". */
	void (*stop_report)(int sig);
};

/**
 * Install the handlers. A dump or track signal the application already
 * handles is left to it, with a warning; a stop signal's handler is
 * chained, an ignored stop signal left ignored. @p act is copied.
 * @return 0.
 */
int mpa_signals_start(const struct mpa_config *cfg,
		      const struct mpa_signals_actions *act);

/** Restore what was there before. */
void mpa_signals_stop(void);

/** Act on signals received since the last call (control thread). */
void mpa_signals_poll(void);

/**
 * Block the stop signals in the calling thread: the control thread, which
 * writes their report, must never be the one waiting for it.
 */
void mpa_signals_block_stop(void);

/** The first stop signal received, or 0. */
int mpa_signals_stop_seen(void);

/** "SIGTERM", "SIGINT" or "SIGHUP". */
const char *mpa_signal_name(int sig);

#endif /* MPA_SIGNALS_H */
