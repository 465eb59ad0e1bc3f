/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include <rte_lcore.h>
#include <rte_service.h>
#include <rte_service_component.h>

#include "guard.h"
#include "clock.h"
#include "log.h"
#include "pool.h"
#include "scan.h"
#include "scanner.h"

static pthread_t thread;
static int thread_on;
static volatile int stop_req;
static uint32_t period_ms;
static uint32_t threshold_ms;
static uint32_t service_id = UINT32_MAX;
static uint32_t last_scan_ms;
static struct mpa_scanner_hooks hooks;

/* Scan if a period has passed since the last scan, whoever runs it. */
/*
 * The period is read without the lock, to keep a spinning service lcore
 * off it between scans; it changes (mpa_scanner_set_locked()) under the
 * lock, so the check is repeated once the lock is held.
 */
static int
due(uint32_t now)
{
	uint32_t period = __atomic_load_n(&period_ms, __ATOMIC_RELAXED);

	return period != 0 && !stop_req &&
	       mpa_age_ms(now, last_scan_ms) >= (int32_t)period;
}

static void
scan_if_due(uint32_t now, int by_service)
{
	if (!due(now))
		return;
	mpa_registry_lock();
	if (due(now)) {
		last_scan_ms = now;
		mpa_scan_locked(threshold_ms);
		mpa_scan_note_runner(by_service);
	}
	mpa_registry_unlock();
}

static int
service_active(void)
{
	return service_id != UINT32_MAX &&
	       rte_service_may_be_active(service_id) == 1;
}

static int32_t
service_run(void *arg)
{
	scan_if_due(mpa_clock_update(), 1);
	return 0;
}

static void *
thread_run(void *arg)
{
	const struct timespec tick = {
		.tv_sec = 0,
		.tv_nsec = MPA_CLOCK_TICK_MS * 1000000L,
	};

	/* What this thread allocates is the auditor's, never a leak. */
	mpa_guard_enter();
	if (hooks.thread_start != NULL)
		hooks.thread_start();
	while (!stop_req) {
		uint32_t now = mpa_clock_update();

		if (hooks.tick != NULL)
			hooks.tick(now);
		if (!service_active())
			scan_if_due(now, 0);
		mpa_registry_lock();
		mpa_pool_reap(now, 0);
		mpa_registry_unlock();
		nanosleep(&tick, NULL);
	}
	return NULL;
}

static void
service_register(void)
{
	struct rte_service_spec spec;

	if (service_id != UINT32_MAX) { /* registered by an earlier start */
		rte_service_component_runstate_set(service_id, 1);
		rte_service_runstate_set(service_id, 1);
		return;
	}
	memset(&spec, 0, sizeof(spec));
	strncpy(spec.name, "mpaudit_scan", sizeof(spec.name) - 1);
	spec.callback = service_run;
	spec.socket_id = SOCKET_ID_ANY;
	if (rte_service_component_register(&spec, &service_id) != 0) {
		service_id = UINT32_MAX;
		MPA_LOG(INFO, "no scan service; the control thread scans");
		return;
	}
	rte_service_component_runstate_set(service_id, 1);
	rte_service_runstate_set(service_id, 1);
}

int
mpa_scanner_start(uint32_t scan_ms, uint32_t stuck_ms,
		  const struct mpa_scanner_hooks *h)
{
	int rc;

	if (thread_on)
		return 0;
	if (h != NULL)
		hooks = *h;
	else
		memset(&hooks, 0, sizeof(hooks));
	__atomic_store_n(&period_ms, scan_ms, __ATOMIC_RELAXED);
	threshold_ms = stuck_ms;
	last_scan_ms = mpa_clock_update();
	stop_req = 0;
	service_register();
	rc = rte_ctrl_thread_create(&thread, "mpa-scan", NULL, thread_run, NULL);
	if (rc != 0) {
		MPA_LOG(ERR, "cannot start the scanner thread: %s", strerror(rc));
		return -rc;
	}
	thread_on = 1;
	return 0;
}

void
mpa_scanner_set_locked(uint32_t scan_ms, uint32_t stuck_ms)
{
	__atomic_store_n(&period_ms, scan_ms, __ATOMIC_RELAXED);
	threshold_ms = stuck_ms;
}

/*
 * The service is switched off but stays registered: DPDK cannot tell us
 * when a service lcore has left the callback, and unregistering under a
 * running callback is unsafe. stop_req makes a late callback a no-op.
 */
void
mpa_scanner_stop(void)
{
	stop_req = 1;
	if (service_id != UINT32_MAX) {
		rte_service_runstate_set(service_id, 0);
		rte_service_component_runstate_set(service_id, 0);
	}
	if (thread_on) {
		pthread_join(thread, NULL);
		thread_on = 0;
	}
}
