/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * forkapp: an instrumented application that forks, for the fault tests
 * (tests/integration/mpa_fault_it.py).
 *
 * It takes FORK_KEEP mbufs at one line and keeps them, then forks FORK_CHILDREN
 * children one after another. Each child returns from a function through
 * exit(0), which runs the atexit handlers it inherited, the auditor's
 * among them; the parent waits for it and checks that no report appeared
 * at MPAUDIT_REPORT (the child must not write the parent's report) and
 * that the child exited 0. Then the parent sleeps past the stuck
 * threshold, prints its ground truth in mpaudit-fwd's format and ends
 * with rte_eal_cleanup(), whose report must hold exactly its own leak.
 *
 * Exit status: mpa_fini()'s verdict (3 with the leak), 1 if a check
 * failed.
 */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "mpaudit.h"

#define PROG "forkapp"
#define FORK_POOL "fork_pool"
#define FORK_POOL_SIZE 1023
#define FORK_KEEP 9
#define FORK_CHILDREN 3
#define FORK_SLEEP_MS 1500

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
report_exists(void)
{
	const char *path = getenv("MPAUDIT_REPORT");
	struct stat st;

	return path != NULL && stat(path, &st) == 0;
}

int
main(int argc, char **argv)
{
	const struct timespec nap = { FORK_SLEEP_MS / 1000,
				      (FORK_SLEEP_MS % 1000) * 1000000L };
	struct rte_mbuf *keep[FORK_KEEP];
	struct rte_mempool *mp;
	unsigned int line;
	int rc, bad = 0;

	if (rte_eal_init(argc, argv) < 0) {
		fprintf(stderr, PROG ": EAL init failed\n");
		return 1;
	}
	mp = rte_pktmbuf_pool_create(FORK_POOL, FORK_POOL_SIZE, 32, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (mp == NULL) {
		fprintf(stderr, PROG ": cannot create %s\n", FORK_POOL);
		return 1;
	}
	line = __LINE__ + 1;
	if (rte_pktmbuf_alloc_bulk(mp, keep, FORK_KEEP) != 0) {
		fprintf(stderr, PROG ": cannot take %d mbufs\n", FORK_KEEP);
		return 1;
	}
	for (int i = 0; i < FORK_CHILDREN; i++) {
		pid_t pid = fork();
		int status;

		if (pid < 0) {
			perror(PROG ": fork");
			return 1;
		}
		if (pid == 0)
			exit(0);   /* runs the inherited atexit handlers */
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, PROG ": child %d did not exit 0 (status 0x%x)\n",
				i, status);
			bad = 1;
		}
		if (report_exists()) {
			fprintf(stderr, PROG ": child %d wrote the parent's report\n", i);
			bad = 1;
		}
	}
	printf(PROG ": children %d exited, no report from them: %s\n",
	       FORK_CHILDREN, bad ? "no" : "yes");
	nanosleep(&nap, NULL);
	printf(PROG ": truth kind=app_leak count=%d pool=%s state=app lcore=%u port=- queue=- ring=- site=%s:%u\n",
	       FORK_KEEP, FORK_POOL, rte_lcore_id(), site_file(__FILE__), line);
	fflush(stdout);
	rte_eal_cleanup();
	rc = mpa_fini();
	return bad ? 1 : rc;
}
