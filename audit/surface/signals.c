/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "mpaudit_heap.h"
#include "heap/heap.h"
#include "core/state.h"
#include "core/log.h"
#include "signals.h"

/* What mpa_signals_poll() runs (mpa_signals_start()). */
static struct mpa_signals_actions actions;
static volatile sig_atomic_t dump_pending, track_pending;
static int dump_sig, track_sig;
static struct sigaction dump_old, track_old;

/*
 * Stop signals. The application's own handler (or the default action) is
 * kept and called after ours, which only hands the report to the control
 * thread and waits for it, bounded: once the chained handler has run,
 * the process may be gone (SIG_DFL, or a handler that re-raises).
 */
static const int stop_sigs[MPA_STOP_SIGNALS] = { SIGTERM, SIGINT, SIGHUP };
static struct sigaction stop_old[MPA_STOP_SIGNALS];
static int stop_on[MPA_STOP_SIGNALS];
static int stop_wait;                       /* a report to wait for */
static int stop_claimed;                    /* the first stop signal came */
static volatile sig_atomic_t stop_pending;  /* for the control thread */
static volatile sig_atomic_t stop_done;     /* its report is written */
static volatile sig_atomic_t stop_seen;     /* the first stop signal, or 0 */

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

static int
stop_index(int sig)
{
	for (int i = 0; i < MPA_STOP_SIGNALS; i++)
		if (stop_sigs[i] == sig)
			return i;
	return -1;
}

/*
 * Async-signal-safe throughout: flags, nanosleep, sigaction, raise. No
 * allocation, no lock, no stdio.
 */
static void
on_stop(int sig, siginfo_t *info, void *uc)
{
	const struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000L };
	int saved_errno = errno;
	int i = stop_index(sig);
	struct sigaction *old;

	if (i < 0)
		return;
	if (__atomic_exchange_n(&stop_claimed, 1, __ATOMIC_ACQ_REL) == 0) {
		stop_seen = sig;
		if (stop_wait) {
			stop_pending = sig;
			for (int n = 0; n < MPA_STOP_WAIT_MS && !stop_done; n++)
				nanosleep(&ms, NULL);
		}
	}
	old = &stop_old[i];
	if (old->sa_flags & SA_SIGINFO) {
		void (*fn)(int, siginfo_t *, void *) = old->sa_sigaction;

		if (old->sa_flags & SA_RESETHAND)
			old->sa_handler = SIG_DFL, old->sa_flags = 0;
		fn(sig, info, uc);
	} else if (old->sa_handler == SIG_DFL) {
		struct sigaction dfl;

		/*
		 * The default action, as if we had never been here: the
		 * signal stays blocked until we return, then kills.
		 */
		memset(&dfl, 0, sizeof(dfl));
		dfl.sa_handler = SIG_DFL;
		sigemptyset(&dfl.sa_mask);
		sigaction(sig, &dfl, NULL);
		raise(sig);
	} else if (old->sa_handler != SIG_IGN) {
		void (*fn)(int) = old->sa_handler;

		if (old->sa_flags & SA_RESETHAND)
			old->sa_handler = SIG_DFL, old->sa_flags = 0;
		fn(sig);
	}
	errno = saved_errno;
}

/*
 * Put on_stop in front of whatever handles @p sig, with the same mask and
 * flags (SA_RESTART, SA_NODEFER, ...) so that the application's handler
 * runs as it would have. An ignored signal is left ignored.
 */
static void
install_stop(int i)
{
	struct sigaction sa;

	if (sigaction(stop_sigs[i], NULL, &stop_old[i]) != 0 ||
	    (!(stop_old[i].sa_flags & SA_SIGINFO) &&
	     stop_old[i].sa_handler == SIG_IGN))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_stop;
	sa.sa_mask = stop_old[i].sa_mask;
	sa.sa_flags = (stop_old[i].sa_flags & ~SA_RESETHAND) | SA_SIGINFO;
	if (sigaction(stop_sigs[i], &sa, NULL) == 0)
		stop_on[i] = 1;
}

/* Put back what was there, unless the application has since replaced us. */
static void
uninstall_stop(int i)
{
	struct sigaction cur;

	if (!stop_on[i])
		return;
	stop_on[i] = 0;
	if (sigaction(stop_sigs[i], NULL, &cur) == 0 &&
	    (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_stop)
		sigaction(stop_sigs[i], &stop_old[i], NULL);
}

void
mpa_signals_block_stop(void)
{
	sigset_t set;

	sigemptyset(&set);
	for (int i = 0; i < MPA_STOP_SIGNALS; i++)
		sigaddset(&set, stop_sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
}

int
mpa_signals_stop_seen(void)
{
	return stop_seen;
}

const char *
mpa_signal_name(int sig)
{
	switch (sig) {
	case SIGTERM: return "SIGTERM";
	case SIGINT: return "SIGINT";
	case SIGHUP: return "SIGHUP";
	default: return "signal";
	}
}

int
mpa_signals_start(const struct mpa_config *cfg,
		  const struct mpa_signals_actions *act)
{
	if (act != NULL)
		actions = *act;
	/*
	 * Wait in the handler only when there is something to wait for: a
	 * report file or the summary.
	 */
	stop_wait = cfg->report_path[0] != '\0' || cfg->summary;
	for (int i = 0; i < MPA_STOP_SIGNALS; i++)
		if (!stop_on[i])
			install_stop(i);
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
	for (int i = 0; i < MPA_STOP_SIGNALS; i++)
		uninstall_stop(i);
	/* A stop signal from now on finds nobody to write its report. */
	stop_wait = 0;
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
		if (actions.dump != NULL)
			actions.dump();
	}
	if (stop_pending) {
		if (actions.stop_report != NULL)
			actions.stop_report(stop_pending);
		stop_pending = 0;
		stop_done = 1;
	}
}
