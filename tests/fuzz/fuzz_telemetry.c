/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * libFuzzer target: the parameter strings of every /mpaudit/ telemetry
 * command, fed to the handlers of a running auditor (real EAL, --no-huge,
 * one audited mbuf pool holding a few mbufs) exactly as DPDK's telemetry
 * thread would call them. The first input byte picks the command, the
 * rest is the parameter string. A handler must return 0 or a negative
 * errno, never crash, and any error reply must carry an "error" text.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_telemetry.h>

#include "mpaudit.h"
#include "surface/telemetry.h"

#define FUZZ_POOL_SIZE 511
#define FUZZ_HELD_MBUFS 7
#define FUZZ_PARAMS_MAX 1024

static char report[128];

/*
 * Registered before mpa_init(): runs after the auditor's exit report.
 * With --no-shconf the EAL's runtime directory stays empty; remove it too.
 */
static void
remove_report(void)
{
	unlink(report);
	rmdir(rte_eal_get_runtime_dir());
}

/*
 * The command, and what goes before the fuzzed parameters: the history of
 * the one pool there is, so its pages are fuzzed, not only its name.
 */
static const struct {
	const char *name;
	const char *prefix;
} commands[] = {
	{ "/mpaudit/summary", "" }, { "/mpaudit/pools", "" },
	{ "/mpaudit/stuck", "" }, { "/mpaudit/errors", "" },
	{ "/mpaudit/heap", "" }, { "/mpaudit/heap_track", "" },
	{ "/mpaudit/heap_snapshot", "" }, { "/mpaudit/heap_diff", "" },
	{ "/mpaudit/heap_drop", "" }, { "/mpaudit/dump", "" },
	{ "/mpaudit/config", "" }, { "/mpaudit/sites", "" },
	{ "/mpaudit/history", "" }, { "/mpaudit/history", "fuzz_pool," },
	{ "/mpaudit/pcap", "" },
};
#define NB_COMMANDS (sizeof(commands) / sizeof(commands[0]))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char prefix[64];
	char *eal[] = { "fuzz_telemetry", "--no-pci", "--no-huge", "-m", "256",
			"--no-telemetry", "--no-shconf", "--lcores", "0@0", "--log-level", "*:error",
			"--file-prefix", prefix };
	struct rte_mempool *mp;
	struct rte_mbuf *held[FUZZ_HELD_MBUFS];

	(void)argc;
	(void)argv;
	snprintf(prefix, sizeof(prefix), "mpa-fuzz-tel-%d", (int)getpid());
	snprintf(report, sizeof(report), "/tmp/mpa-fuzz-tel-%d.json", (int)getpid());
	setenv("MPAUDIT_REPORT", report, 1);
	setenv("MPAUDIT_STUCK_MS", "1", 1);
	setenv("MPAUDIT_SCAN_MS", "0", 1);
	setenv("MPAUDIT_SUMMARY", "0", 1);
	atexit(remove_report);
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0 || mpa_init() != 0) {
		fprintf(stderr, "fuzz_telemetry: EAL init failed\n");
		exit(1);
	}
	mp = rte_pktmbuf_pool_create("fuzz_pool", FUZZ_POOL_SIZE, 32, 0,
				     RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (mp == NULL || rte_pktmbuf_alloc_bulk(mp, held, FUZZ_HELD_MBUFS) != 0) {
		fprintf(stderr, "fuzz_telemetry: no pool\n");
		exit(1);
	}
	/* Give the pages something to list: held mbufs, seen stuck. */
	usleep(5000);
	mpa_scan_run();
	mpa_scan_run();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char params[FUZZ_PARAMS_MAX + 16];
	struct rte_tel_data *d;
	const char *name;
	size_t pre;
	int rc;

	if (size == 0)
		return 0;
	name = commands[data[0] % NB_COMMANDS].name;
	pre = strlen(commands[data[0] % NB_COMMANDS].prefix);
	memcpy(params, commands[data[0] % NB_COMMANDS].prefix, pre);
	size--;
	if (size > FUZZ_PARAMS_MAX)
		size = FUZZ_PARAMS_MAX;
	/* DPDK hands over a C string: stop at the first NUL, as it would. */
	memcpy(params + pre, data + 1, size);
	params[pre + size] = '\0';
	d = rte_tel_data_alloc();
	if (d == NULL)
		abort();
	/* DPDK passes NULL when there is nothing after the comma. */
	rc = mpa_telemetry_call(name, params[0] != '\0' ? params : NULL, d);
	if (rc > 0)
		abort();
	rte_tel_data_free(d);
	return 0;
}
