/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <signal.h>
#include <string.h>

#include "mpaudit_heap.h"
#include "heap.h"
#include "lifecycle.h"
#include "log.h"
#include "signals.h"

static volatile sig_atomic_t dump_pending, track_pending;
static int dump_sig, track_sig;
static struct sigaction dump_old, track_old;

static void
on_dump(int sig)
{
	(void)sig;
	dump_pending = 1;
}

static void
on_track(int sig)
{
	(void)sig;
	track_pending = 1;
}

static int
install(int sig, void (*fn)(int), struct sigaction *old, const char *var)
{
	struct sigaction sa;

	if (sig == 0 || sigaction(sig, NULL, old) != 0)
		return 0;
	if (old->sa_handler != SIG_DFL && old->sa_handler != SIG_IGN) {
		MPA_LOG(WARNING, "signal %d (%s) already has a handler in the application; left to it",
			sig, var);
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(sig, &sa, NULL) != 0)
		return 0;
	return sig;
}

int
mpa_signals_start(const struct mpa_config *cfg)
{
	if (dump_sig == 0)
		dump_sig = install(cfg->dump_signal, on_dump, &dump_old,
				   "MPAUDIT_DUMP_SIGNAL");
	if (track_sig == 0 && cfg->track_signal != cfg->dump_signal)
		track_sig = install(cfg->track_signal, on_track, &track_old,
				    "MPAUDIT_TRACK_SIGNAL");
	if (dump_sig != 0 || track_sig != 0)
		MPA_LOG(INFO, "signals: dump on %d, toggle heap tracking on %d (0 = none)",
			dump_sig, track_sig);
	return 0;
}

void
mpa_signals_stop(void)
{
	if (dump_sig != 0)
		sigaction(dump_sig, &dump_old, NULL);
	if (track_sig != 0)
		sigaction(track_sig, &track_old, NULL);
	dump_sig = track_sig = 0;
}

void
mpa_signals_poll(void)
{
	if (track_pending) {
		track_pending = 0;
		if (mpa_heap_track(!mpa_heap_tracking()) < 0)
			MPA_LOG(WARNING, "track signal: heap tracking is not active");
	}
	if (dump_pending) {
		dump_pending = 0;
		mpa_dump_now();
	}
}
