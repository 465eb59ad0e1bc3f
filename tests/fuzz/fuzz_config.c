/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * libFuzzer target: random values for every MPAUDIT_* variable, and
 * random names after the prefix, through the configuration parser that
 * both modes use. A rejected value must be named in the error (the
 * variable's name appears in the message), an accepted one must leave a
 * configuration the auditor's own validation (mpa_init_with's ranges)
 * would accept, and a rejection must restore the defaults.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "mpaudit_stamp.h"

#define FUZZ_VALUE_MAX 512

/*
 * The variables the parser knows, plus one it must not: the parser's
 * list is the truth, this one only picks names to try.
 */
static const char *const names[] = {
	"MPAUDIT_STUCK_MS", "MPAUDIT_SCAN_MS", "MPAUDIT_REPORT",
	"MPAUDIT_SUMMARY", "MPAUDIT_HEAP", "MPAUDIT_HEAP_DEPTH",
	"MPAUDIT_HEAP_TRACK", "MPAUDIT_HEAP_MAX_MB", "MPAUDIT_DUMP_SIGNAL",
	"MPAUDIT_TRACK_SIGNAL", "MPAUDIT_REPORT_MS", "MPAUDIT_HISTORY",
	"MPAUDIT_HISTORY_SCANS", "MPAUDIT_PCAP_DIR", "MPAUDIT_NO_SUCH_VAR",
};
#define NB_NAMES (sizeof(names) / sizeof(names[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char var[64 + FUZZ_VALUE_MAX + 2];
	char *envp[2] = { var, NULL };
	struct mpa_config cfg, defaults;
	char err[512];
	const char *name;
	size_t n;
	int rc;

	if (size == 0)
		return 0;
	name = names[data[0] % NB_NAMES];
	size--;
	if (size > FUZZ_VALUE_MAX)
		size = FUZZ_VALUE_MAX;
	n = (size_t)snprintf(var, sizeof(var), "%s=", name);
	memcpy(var + n, data + 1, size);
	var[n + size] = '\0';

	rc = mpa_config_parse(&cfg, envp, err, sizeof(err));
	if (rc != 0) {
		mpa_config_defaults(&defaults);
		if (rc >= 0 || strstr(err, name) == NULL ||
		    memcmp(&cfg, &defaults, sizeof(cfg)) != 0) {
			fprintf(stderr, "fuzz_config: bad rejection of '%s': rc %d, '%s'\n",
				var, rc, err);
			abort();
		}
		return 0;
	}
	if (strcmp(name, "MPAUDIT_NO_SUCH_VAR") == 0 || cfg.stuck_ms == 0 ||
	    cfg.stuck_ms > MPA_MAX_STUCK_MS || cfg.scan_ms > MPA_MAX_SCAN_MS ||
	    cfg.heap_depth == 0 || cfg.heap_max_mb == 0 ||
	    cfg.history > MPA_OBJHIST_MAX) {
		fprintf(stderr, "fuzz_config: accepted '%s' out of range\n", var);
		abort();
	}
	return 0;
}
