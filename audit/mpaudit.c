/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Auditor lifecycle: start after EAL init, stop with a final scan and the
 * reports. The auditor never harms its host: every failure here disables
 * auditing with a log line and lets the application run on.
 */

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_log.h>

#include "core/guard.h"
#include "core/classify.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/driver.h"
#include "core/fault.h"
#include "lifecycle.h"
#include "core/log.h"
#include "core/pool.h"
#include "heap/reach.h"
#include "surface/report.h"
#include "core/ring.h"
#include "core/scan.h"
#include "core/scanner.h"
#include "surface/signals.h"
#include "surface/telemetry.h"
#include "heap/stack.h"
#include "heap/growth.h"
#include "heap/heap.h"
#include "mpaudit_heap.h"

extern char **environ;

RTE_LOG_REGISTER(mpa_logtype, mpaudit, INFO);

volatile int mpa_on;

static struct mpa_config cfg;
static int started;        /* mpa_init succeeded */
static int finished;       /* mpa_fini ran */
static int fini_result;
static int atexit_done;
/*
 * The process that started the auditor. A child of fork() inherits our
 * state and atexit handler but not the scanner thread: it must neither
 * scan the parent's pools nor write the parent's report.
 */
static pid_t owner_pid;
static int secondary;      /* a DPDK secondary process: no pool auditing */
static uint32_t report_last_ms;  /* the last periodic rewrite (or the start) */

/*
 * The control thread's work beyond scanning: the surfaces and heap
 * tracking, which core does not know. Stop signals are blocked on it so
 * that they go to an application thread and the handler there only flags
 * them; this thread then writes the report (mpa_signals_poll).
 */
static void
control_tick(uint32_t now_ms)
{
	mpa_signals_poll();
	mpa_report_tick(now_ms);
	mpa_heap_poll();
	mpa_growth_tick(now_ms);
}

static const struct mpa_signals_actions signal_actions = {
	.dump = mpa_dump_now,
	.stop_report = mpa_stop_report,
};

static int set_timing(uint32_t stuck_ms, uint32_t scan_ms);

static const struct mpa_telemetry_actions telemetry_actions = {
	.dump = mpa_dump_now,
	.set_timing = set_timing,
};

static const struct mpa_scanner_hooks scanner_hooks = {
	.thread_start = mpa_signals_block_stop,
	.tick = control_tick,
};

/*
 * In the child: stop stamping. Hugepage memory is shared with the parent,
 * so the child's stamps would overwrite the parent's.
 */
static void
on_fork_child(void)
{
	mpa_on = 0;
}

static int
forked_child(void)
{
	return owner_pid != 0 && getpid() != owner_pid;
}

int
mpa_enabled(void)
{
	return mpa_on;
}

/*
 * The heap tracker took its settings from the environment when it loaded,
 * before any API call: report those, whatever mpa_init_with() was given.
 */
static void
heap_settings_from_env(struct mpa_config *c)
{
	struct mpa_config env;

	if (mpa_config_parse(&env, environ, NULL, 0) != 0)
		mpa_config_defaults(&env);
	c->heap = env.heap;
	c->heap_depth = env.heap_depth;
	c->heap_manual = env.heap_manual;
	c->heap_max_mb = env.heap_max_mb;
}

/* Name @p why on the next report, with the stop signal seen before, if any. */
static void
set_stop(const char *why)
{
	int sig = mpa_signals_stop_seen();

	mpa_report_set_stop(why, sig != 0 ? mpa_signal_name(sig) : NULL);
}

static void
at_exit(void)
{
	mpa_fini();
}

int
mpa_init_with(const struct mpa_config *c)
{
	int rc = 0;

	if (started)
		return 0;
	if (c->stuck_ms == 0 || c->scan_ms > MPA_MAX_SCAN_MS ||
	    c->stuck_ms > MPA_MAX_STUCK_MS || c->report_ms > MPA_MAX_REPORT_MS ||
	    c->history_scans > MPA_MAX_HISTORY_SCANS ||
	    c->history > MPA_OBJHIST_MAX ||
	    (c->dump_signal != 0 && (c->dump_signal < SIGRTMIN || c->dump_signal > SIGRTMAX)) ||
	    (c->track_signal != 0 && (c->track_signal < SIGRTMIN || c->track_signal > SIGRTMAX))) {
		MPA_LOG(ERR, "invalid configuration (stuck_ms %u, scan_ms %u, report_ms %u, history %u, signals %d/%d); auditing disabled, the application runs unaudited",
			c->stuck_ms, c->scan_ms, c->report_ms, c->history,
			c->dump_signal, c->track_signal);
		return -EINVAL;
	}
	cfg = *c;
	heap_settings_from_env(&cfg);
	mpa_scan_configure(cfg.stuck_ms, mpa_report_log_new);
	mpa_scan_set_history(cfg.history_scans);
	mpa_clock_update();
	mpa_fault_init();
	/*
	 * A secondary process shares the primary's pools, but stamps name
	 * holders from a per-process table and carry a per-process clock:
	 * stamps from two processes in one pool would be misread by both.
	 * The primary audits the pools; a secondary stamps nothing, scans no
	 * pool (it would report the primary's holdings as its own) and keeps
	 * only what is its own: heap tracking under the preload, telemetry.
	 */
	secondary = rte_eal_process_type() == RTE_PROC_SECONDARY;
	/*
	 * Before the first pool is attached (its history words are cleared
	 * then) and before anything stamps: the wrappers read it without a
	 * lock and must see one value for the life of the auditor.
	 */
	mpa_objhist_k = secondary ? 0 : cfg.history;
	if (secondary)
		MPA_LOG(NOTICE, "secondary process: the mempools are audited by the primary process; this process stamps and scans none");
	else
		rc = mpa_pool_events_start(mpa_scan_retire_locked);
	if (rc != 0)
		goto err;
	rc = mpa_scanner_start(cfg.scan_ms, cfg.stuck_ms, &scanner_hooks);
	if (rc != 0)
		goto err;
	report_last_ms = mpa_clock_read();
	started = 1;
	mpa_state_publish(&cfg);
	finished = 0;
	mpa_on = !secondary;
	mpa_signals_start(&cfg, &signal_actions);
	mpa_telemetry_register(&telemetry_actions);
	owner_pid = getpid();
	if (!atexit_done) {
		atexit(at_exit);
		pthread_atfork(NULL, NULL, on_fork_child);
		atexit_done = 1;
	}
	if (cfg.scan_ms != 0)
		MPA_LOG(INFO, "auditing: stuck threshold %u ms, scan every %u ms%s%s",
			cfg.stuck_ms, cfg.scan_ms,
			cfg.report_path[0] ? ", report to " : "", cfg.report_path);
	else
		MPA_LOG(INFO, "auditing: stuck threshold %u ms, no periodic scan, final scan at exit%s%s",
			cfg.stuck_ms, cfg.report_path[0] ? ", report to " : "",
			cfg.report_path);
	if (mpa_objhist_k != 0)
		MPA_LOG(INFO, "keeping the last %u stamps of every object (MPAUDIT_HISTORY)",
			mpa_objhist_k);
	return 0;
err:
	MPA_LOG(ERR, "cannot start: %s; auditing disabled, the application runs unaudited",
		strerror(-rc));
	mpa_objhist_k = 0;
	mpa_scanner_stop();
	mpa_pool_events_stop();
	mpa_registry_lock();
	mpa_pool_detach_all();
	mpa_pool_reap(0, 1);
	mpa_registry_unlock();
	return rc;
}

int
mpa_started(void)
{
	return started;
}

int
mpa_init_mode(const char *m)
{
	if (!started)
		mpa_state_set_mode(m);
	return mpa_init();
}

int
mpa_init(void)
{
	struct mpa_config c;
	char err[256];

	if (started)
		return 0;
	if (mpa_config_from_env(&c, err, sizeof(err)) != 0) {
		MPA_LOG(ERR, "%s; auditing disabled, the application runs unaudited",
			err);
		return 0;
	}
	return mpa_init_with(&c);
}

int
mpa_fini(void)
{
	MPA_REACH_APP_ENTRY();
	const struct mpa_scan_result *r;
	int rc;

	if (finished || !started)
		return finished ? fini_result : MPA_EXIT_CLEAN;
	if (forked_child())
		return MPA_EXIT_CLEAN;
	mpa_guard_enter();
	mpa_signals_stop();
	mpa_scanner_stop();
	mpa_registry_lock();
	/* At exit every heap allocation still outstanding is a leak. */
	mpa_report_heap_age(0);
	mpa_heap_poll();
	/*
	 * Two scans: a holding is stuck only once seen in MPA_CONFIRM_SCANS
	 * consecutive scans, and without periodic scans (MPAUDIT_SCAN_MS=0)
	 * the final scan would be the first. The datapath has stopped by
	 * now, so the second scan only confirms.
	 */
	for (int i = 0; i < MPA_CONFIRM_SCANS; i++)
		mpa_scan_locked(cfg.stuck_ms);
	mpa_report_log_flush();
	mpa_report_log_forget();
	r = mpa_scan_result();
	rc = mpa_report_exit_code(r);
	set_stop(MPA_STOP_EXIT);
	if (cfg.report_path[0] != '\0' &&
	    mpa_report_write_file(cfg.report_path, r, mpa_scan_stats(), &cfg) != 0)
		rc = MPA_EXIT_FAILED;
	if (cfg.summary)
		mpa_report_print_summary(stderr, r, mpa_scan_stats(), &cfg);
	mpa_on = 0;
	mpa_objhist_k = 0;
	mpa_scan_configure(0, NULL);
	mpa_pool_events_stop();
	mpa_pool_detach_all();
	mpa_pool_reap(0, 1);
	mpa_ring_unwatch_all();
	mpa_rxq_forget();
	mpa_scan_reset();
	mpa_registry_unlock();
	fflush(stderr);
	finished = 1;
	started = 0;
	mpa_state_publish(NULL);
	fini_result = rc;
	mpa_guard_leave();
	return rc;
}

int
mpa_scan_run(void)
{
	int rc;

	if (!started || forked_child())
		return -ENODEV;
	mpa_registry_lock();
	rc = mpa_scan_locked(cfg.stuck_ms);
	mpa_registry_unlock();
	return rc;
}

int
mpa_report_write(const char *path)
{
	MPA_REACH_APP_ENTRY();
	int rc;

	if (path == NULL)
		path = cfg.report_path;
	if (path[0] == '\0')
		return -EINVAL;
	if (!started || forked_child())
		return -ENODEV;
	mpa_guard_enter();
	mpa_registry_lock();
	mpa_report_heap_age(cfg.stuck_ms);
	set_stop(MPA_STOP_DUMP);
	rc = mpa_report_write_file(path, mpa_scan_result(), mpa_scan_stats(), &cfg);
	mpa_registry_unlock();
	mpa_guard_leave();
	return rc;
}

/*
 * /mpaudit/config: a new threshold and period, for the scanner, the
 * retirement scans, the reports and what the surfaces show. Under the
 * registry lock, so no scan runs half with the old values.
 */
static int
set_timing(uint32_t stuck_ms, uint32_t scan_ms)
{
	uint32_t old_stuck, old_scan;

	mpa_registry_lock();
	if (!started || finished || forked_child()) {
		mpa_registry_unlock();
		return -ENODEV;
	}
	old_stuck = cfg.stuck_ms;
	old_scan = cfg.scan_ms;
	cfg.stuck_ms = stuck_ms;
	cfg.scan_ms = scan_ms;
	mpa_scan_configure(stuck_ms, mpa_report_log_new);
	mpa_scanner_set_locked(scan_ms, stuck_ms);
	mpa_state_publish(&cfg);
	mpa_registry_unlock();
	if (old_stuck != stuck_ms || old_scan != scan_ms)
		MPA_LOG(NOTICE, "telemetry: stuck threshold %u -> %u ms, scan period %u -> %u ms",
			old_stuck, stuck_ms, old_scan, scan_ms);
	return 0;
}

int
mpa_dump_now(void)
{
	int rc = 0;

	if (!started || forked_child())
		return -ENODEV;
	mpa_guard_enter();
	mpa_registry_lock();
	mpa_scan_locked(cfg.stuck_ms);
	mpa_report_heap_age(cfg.stuck_ms);
	set_stop(MPA_STOP_DUMP);
	if (cfg.report_path[0] != '\0')
		rc = mpa_report_write_file(cfg.report_path, mpa_scan_result(),
					   mpa_scan_stats(), &cfg);
	fprintf(stderr, "mpaudit: dump on request%s%s\n",
		cfg.report_path[0] ? ", report written to " : "", cfg.report_path);
	mpa_report_print_summary(stderr, mpa_scan_result(), mpa_scan_stats(), &cfg);
	fflush(stderr);
	mpa_registry_unlock();
	mpa_guard_leave();
	return rc;
}

void
mpa_stop_report(int sig)
{
	char why[32];
	int rc = 0;

	if (!started || forked_child())
		return;
	snprintf(why, sizeof(why), "signal %s", mpa_signal_name(sig));
	mpa_guard_enter();
	mpa_registry_lock();
	/*
	 * The application is still running, and may well run on (its own
	 * handler decides): this is a dump, not the final scan. Held objects
	 * and allocations younger than the threshold are not reported.
	 */
	mpa_scan_locked(cfg.stuck_ms);
	mpa_report_log_flush();
	mpa_report_heap_age(cfg.stuck_ms);
	mpa_report_set_stop(why, mpa_signal_name(sig));
	if (cfg.report_path[0] != '\0') {
		rc = mpa_report_write_file(cfg.report_path, mpa_scan_result(),
					   mpa_scan_stats(), &cfg);
		if (rc == 0)
			fprintf(stderr, "mpaudit: %s: report written to %s\n",
				mpa_signal_name(sig), cfg.report_path);
	} else if (cfg.summary) {
		mpa_report_print_summary(stderr, mpa_scan_result(),
					 mpa_scan_stats(), &cfg);
	}
	fflush(stderr);
	mpa_registry_unlock();
	mpa_guard_leave();
}

void
mpa_report_tick(uint32_t now_ms)
{
	if (!started || forked_child() || cfg.report_ms == 0 ||
	    cfg.report_path[0] == '\0' ||
	    mpa_age_ms(now_ms, report_last_ms) < (int32_t)cfg.report_ms)
		return;
	report_last_ms = now_ms;
	mpa_guard_enter();
	mpa_registry_lock();
	/* The periodic scans keep the result fresh; without them, scan here. */
	if (cfg.scan_ms == 0)
		mpa_scan_locked(cfg.stuck_ms);
	mpa_report_heap_age(cfg.stuck_ms);
	set_stop(MPA_STOP_PERIODIC);
	mpa_report_write_file(cfg.report_path, mpa_scan_result(),
			      mpa_scan_stats(), &cfg);
	mpa_registry_unlock();
	mpa_guard_leave();
}

int
mpa_heap_dump(void)
{
	MPA_REACH_APP_ENTRY();
	/* As the other mpa_heap_* calls: -ENOTSUP without heap tracking. */
	return started && mpa_heap_active() ? mpa_dump_now() : -ENOTSUP;
}

int
mpa_report_print(FILE *f)
{
	MPA_REACH_APP_ENTRY();
	int rc;

	if (!started)
		return 0;
	mpa_guard_enter();
	mpa_registry_lock();
	mpa_report_heap_age(cfg.stuck_ms);
	rc = mpa_report_print_summary(f, mpa_scan_result(), mpa_scan_stats(), &cfg);
	mpa_registry_unlock();
	mpa_guard_leave();
	return rc;
}

/* rte_eal_init is redirected here by mpaudit_override.h. */
int
mpa_eal_init(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);

	if (rc >= 0)
		mpa_init();
	return rc;
}

int
mpa_eal_cleanup(void)
{
	mpa_fini();
	return rte_eal_cleanup();
}
