/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * stopapp: an instrumented application stopped every way a service is
 * stopped, for the stop-path tests (tests/integration/mpa_stop_it.py).
 *
 * It takes STOP_KEEP mbufs at one line and keeps them, sleeps past the
 * stuck threshold the tests use, prints its ground truth in mpaudit-fwd's
 * format and "stopapp: ready", then waits, as chosen after "--":
 *
 *   --handler own   its own SIGTERM and SIGINT handler, installed before
 *                   rte_eal_init() as services do, counts the calls; the
 *                   main loop sees the first, waits a little for more,
 *                   prints "stopapp: handler calls N" and ends through
 *                   rte_eal_cleanup() (exit status: mpa_fini()'s verdict)
 *   --handler none  no handler: the default action of whatever signal
 *                   comes ends it
 *   --ignore-hup    SIGHUP ignored (as under nohup): it must stay so
 *   --exit-worker   a worker lcore calls exit(0) while the main lcore
 *                   waits
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "mpaudit.h"

#define PROG "stopapp"
#define STOP_POOL "stop_pool"
#define STOP_POOL_SIZE 1023
#define STOP_KEEP 7
/* Past the tests' threshold (300 ms) and several 50 ms scans. */
#define STOP_HOLD_MS 1000
/* After the first call of the handler: time for a second one to show. */
#define STOP_SETTLE_MS 300

static volatile sig_atomic_t calls;

static void
on_signal(int sig)
{
	(void)sig;
	calls++;
}

static void
nap_ms(unsigned int ms)
{
	const struct timespec t = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&t, NULL);
}

/* __FILE__ without leading "./" and "../", as mpaudit reports sites. */
static const char *
site_file(const char *f)
{
	for (;;) {
		if (strncmp(f, "./", 2) == 0)
			f += 2;
		else if (strncmp(f, "../", 3) == 0)
			f += 3;
		else
			return f;
	}
}

static int
worker_exit(void *arg)
{
	(void)arg;
	nap_ms(200);
	printf(PROG ": worker lcore %u calls exit(0)\n", rte_lcore_id());
	fflush(stdout);
	exit(0);
}

int
main(int argc, char **argv)
{
	struct rte_mbuf *keep[STOP_KEEP];
	struct rte_mempool *mp;
	int own = 0, ignore_hup = 0, exit_worker = 0, n;
	unsigned int line;

	/* The application's options, after "--", are read before the EAL's. */
	for (n = 1; n < argc && strcmp(argv[n], "--") != 0; n++)
		;
	for (int i = n + 1; i < argc; i++) {
		if (strcmp(argv[i], "--handler") == 0 && i + 1 < argc) {
			i++;
			if (strcmp(argv[i], "own") == 0)
				own = 1;
			else if (strcmp(argv[i], "none") != 0)
				goto usage;
		} else if (strcmp(argv[i], "--ignore-hup") == 0) {
			ignore_hup = 1;
		} else if (strcmp(argv[i], "--exit-worker") == 0) {
			exit_worker = 1;
		} else {
			goto usage;
		}
	}
	/* Before rte_eal_init(), so the auditor finds them and chains. */
	if (own) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGTERM, &sa, NULL) != 0 ||
		    sigaction(SIGINT, &sa, NULL) != 0) {
			perror(PROG ": sigaction");
			return 1;
		}
	}
	if (ignore_hup)
		signal(SIGHUP, SIG_IGN);
	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, PROG ": EAL init failed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create(STOP_POOL, STOP_POOL_SIZE, 32, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, PROG ": cannot create %s\n", STOP_POOL);
		return 1;
	}
	line = __LINE__ + 1;
	if (rte_pktmbuf_alloc_bulk(mp, keep, STOP_KEEP) != 0) {
		fprintf(stderr, PROG ": cannot take %d mbufs\n", STOP_KEEP);
		return 1;
	}
	nap_ms(STOP_HOLD_MS);
	printf(PROG ": truth kind=app_leak count=%d pool=%s state=app lcore=%u port=- queue=- ring=- site=%s:%u\n",
	       STOP_KEEP, STOP_POOL, rte_lcore_id(), site_file(__FILE__), line);
	printf(PROG ": ready\n");
	fflush(stdout);
	if (exit_worker) {
		unsigned int w = rte_get_next_lcore(-1, 1, 0);

		if (w >= RTE_MAX_LCORE ||
		    rte_eal_remote_launch(worker_exit, NULL, w) != 0) {
			fprintf(stderr, PROG ": no worker lcore\n");
			return 1;
		}
	}
	while (calls == 0)
		nap_ms(10);
	nap_ms(STOP_SETTLE_MS);
	printf(PROG ": handler calls %d\n", (int)calls);
	fflush(stdout);
	rte_eal_cleanup();
	return mpa_fini();
usage:
	fprintf(stderr, "usage: " PROG " EAL-ARGS -- [--handler own|none] [--ignore-hup] [--exit-worker]\n");
	return 2;
}
