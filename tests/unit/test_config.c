/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Unit tests of audit/core/config.c: defaults, the accepted range of every
 * MPAUDIT_* variable, and the exact rejection of malformed values.
 */

#include <errno.h>
#include <signal.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <rte_common.h>

#include "core/config.h"
#include "mpaudit_stamp.h"

#define ERRLEN 512

/* Expected message for a numeric variable rejected with value @p val. */
static void
range_msg(char *buf, size_t len, const char *name, const char *val,
	  unsigned int min, unsigned int max)
{
	snprintf(buf, len, "invalid %s='%s': expected an integer from %u to %u",
		 name, val, min, max);
}

static const char unknown_tail[] =
	" (known: MPAUDIT_STUCK_MS, MPAUDIT_SCAN_MS, MPAUDIT_REPORT, MPAUDIT_REPORT_MS, MPAUDIT_HISTORY_SCANS, MPAUDIT_HISTORY, MPAUDIT_PCAP_DIR, MPAUDIT_SUMMARY, MPAUDIT_HEAP, MPAUDIT_HEAP_DEPTH, MPAUDIT_HEAP_TRACK, MPAUDIT_HEAP_MAX_MB, MPAUDIT_DUMP_SIGNAL, MPAUDIT_TRACK_SIGNAL)";

/* Assert that @p cfg holds exactly the built-in defaults. */
static void
assert_defaults(const struct mpa_config *cfg)
{
	assert_int_equal(cfg->stuck_ms, 5000);
	assert_int_equal(cfg->scan_ms, 1000);
	assert_int_equal(cfg->summary, 1);
	assert_string_equal(cfg->report_path, "");
	assert_int_equal(cfg->heap, 3);
	assert_int_equal(cfg->heap_depth, 16);
	assert_int_equal(cfg->heap_manual, 0);
	assert_int_equal(cfg->heap_max_mb, 4096);
	assert_int_equal(cfg->dump_signal, SIGRTMIN);
	assert_int_equal(cfg->track_signal, SIGRTMIN + 1);
	assert_int_equal(cfg->report_ms, 10000);
	assert_int_equal(cfg->history_scans, 3600);
	assert_string_equal(cfg->pcap_dir, "");
	assert_int_equal(cfg->history, 0);
}

/* A config filled with junk, so that parse must overwrite every field. */
static void
dirty(struct mpa_config *cfg)
{
	memset(cfg, 0x5a, sizeof(*cfg));
	cfg->report_path[sizeof(cfg->report_path) - 1] = '\0';
}

/* Parse a single "NAME=value" string. */
static int
parse1(struct mpa_config *cfg, const char *var, char *err)
{
	char *envp[] = { (char *)(uintptr_t)var, NULL };

	dirty(cfg);
	strcpy(err, "junk");
	return mpa_config_parse(cfg, envp, err, ERRLEN);
}

static void
test_defaults(void **state)
{
	struct mpa_config cfg;

	dirty(&cfg);
	mpa_config_defaults(&cfg);
	assert_defaults(&cfg);
	assert_int_equal(MPA_DEFAULT_STUCK_MS, 5000);
	assert_int_equal(MPA_DEFAULT_SCAN_MS, 1000);
	assert_int_equal(MPA_MAX_STUCK_MS, 86400000);
	assert_int_equal(MPA_MAX_SCAN_MS, 3600000);
}

static void
test_empty_env(void **state)
{
	char *envp[] = { NULL };
	struct mpa_config cfg;
	char err[ERRLEN];

	dirty(&cfg);
	strcpy(err, "junk");
	assert_int_equal(mpa_config_parse(&cfg, envp, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	assert_string_equal(err, "");

	/* A NULL array is an empty environment. */
	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, NULL, err, sizeof(err)), 0);
	assert_defaults(&cfg);
}

static void
test_other_variables_ignored(void **state)
{
	char *envp[] = {
		"PATH=/usr/bin:/bin",
		"HOME=/root",
		"MPAUDIT=1",            /* no underscore: not ours */
		"MPAUDITX_FOO=1",
		"XMPAUDIT_FOO=1",
		"mpaudit_stuck_ms=7",   /* names are case-sensitive */
		"Mpaudit_FOO=bar",
		"_MPAUDIT_STUCK_MS=0",
		"=MPAUDIT_STUCK_MS",
		"",
		NULL
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	dirty(&cfg);
	strcpy(err, "junk");
	assert_int_equal(mpa_config_parse(&cfg, envp, err, sizeof(err)), 0);
	assert_defaults(&cfg);
	assert_string_equal(err, "");
}

static void
test_all_valid(void **state)
{
	char *envp[] = {
		"SHELL=/bin/sh",
		"MPAUDIT_STUCK_MS=250",
		"MPAUDIT_SCAN_MS=20",
		"MPAUDIT_SUMMARY=0",
		"MPAUDIT_REPORT=/tmp/mpaudit report.json",
		"TERM=dumb",
		NULL
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp, err, sizeof(err)), 0);
	assert_int_equal(cfg.stuck_ms, 250);
	assert_int_equal(cfg.scan_ms, 20);
	assert_int_equal(cfg.summary, 0);
	assert_string_equal(cfg.report_path, "/tmp/mpaudit report.json");
	assert_string_equal(err, "");
}

static void
test_stuck_ms_bounds(void **state)
{
	static const struct {
		const char *var;
		uint32_t want;
	} ok[] = {
		{ "MPAUDIT_STUCK_MS=1", 1 },
		{ "MPAUDIT_STUCK_MS=2", 2 },
		{ "MPAUDIT_STUCK_MS=5000", 5000 },
		{ "MPAUDIT_STUCK_MS=007", 7 },
		{ "MPAUDIT_STUCK_MS=86399999", 86399999 },
		{ "MPAUDIT_STUCK_MS=86400000", 86400000 },
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		assert_int_equal(parse1(&cfg, ok[i].var, err), 0);
		assert_int_equal(cfg.stuck_ms, ok[i].want);
		assert_int_equal(cfg.scan_ms, 1000);
		assert_int_equal(cfg.summary, 1);
		assert_string_equal(cfg.report_path, "");
		assert_string_equal(err, "");
	}
}

static void
test_scan_ms_bounds(void **state)
{
	static const struct {
		const char *var;
		uint32_t want;
	} ok[] = {
		{ "MPAUDIT_SCAN_MS=0", 0 },
		{ "MPAUDIT_SCAN_MS=1", 1 },
		{ "MPAUDIT_SCAN_MS=000", 0 },
		{ "MPAUDIT_SCAN_MS=3599999", 3599999 },
		{ "MPAUDIT_SCAN_MS=3600000", 3600000 },
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		assert_int_equal(parse1(&cfg, ok[i].var, err), 0);
		assert_int_equal(cfg.scan_ms, ok[i].want);
		assert_int_equal(cfg.stuck_ms, 5000);
		assert_int_equal(cfg.summary, 1);
		assert_string_equal(cfg.report_path, "");
		assert_string_equal(err, "");
	}
}

static void
test_summary_values(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];

	assert_int_equal(parse1(&cfg, "MPAUDIT_SUMMARY=0", err), 0);
	assert_int_equal(cfg.summary, 0);
	assert_int_equal(cfg.stuck_ms, 5000);
	assert_int_equal(cfg.scan_ms, 1000);
	assert_int_equal(parse1(&cfg, "MPAUDIT_SUMMARY=1", err), 0);
	assert_int_equal(cfg.summary, 1);
	assert_string_equal(err, "");
}

static void
test_report_path(void **state)
{
	char var[sizeof("MPAUDIT_REPORT=") + 4096];
	struct mpa_config cfg;
	char err[ERRLEN];
	size_t plen = strlen("MPAUDIT_REPORT=");

	assert_int_equal(parse1(&cfg, "MPAUDIT_REPORT=out.json", err), 0);
	assert_string_equal(cfg.report_path, "out.json");
	assert_int_equal(cfg.stuck_ms, 5000);

	/* A value may itself contain '='. */
	assert_int_equal(parse1(&cfg, "MPAUDIT_REPORT=/a=b/r.json", err), 0);
	assert_string_equal(cfg.report_path, "/a=b/r.json");

	/* The longest path that fits: 4095 characters. */
	strcpy(var, "MPAUDIT_REPORT=");
	memset(var + plen, 'p', 4095);
	var[plen + 4095] = '\0';
	assert_int_equal(parse1(&cfg, var, err), 0);
	assert_int_equal(strlen(cfg.report_path), 4095);
	assert_memory_equal(cfg.report_path, var + plen, 4096);
	assert_string_equal(err, "");

	/* One more does not fit. */
	memset(var + plen, 'p', 4096);
	var[plen + 4096] = '\0';
	assert_int_equal(parse1(&cfg, var, err), -EINVAL);
	assert_defaults(&cfg);
	/* The message carries the whole value and is truncated to ERRLEN. */
	assert_int_equal(strlen(err), ERRLEN - 1);
	assert_memory_equal(err, "invalid MPAUDIT_REPORT='ppp",
			    strlen("invalid MPAUDIT_REPORT='ppp"));

	assert_int_equal(parse1(&cfg, "MPAUDIT_REPORT=", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err, "invalid MPAUDIT_REPORT='': expected a file path");
}

/* Values every numeric variable must reject. */
static const char *const bad_numbers[] = {
	"",
	"-5",
	"-0",
	"+5",
	"12ms",
	" 5",
	"5 ",
	"5\t",
	"0x10",
	"1e3",
	"1.5",
	"1,000",
	"five",
	"99999999999999999999",
	"18446744073709551617",  /* 2^64 + 1: wraps to 1 in 64 bits */
	"4294967297",            /* 2^32 + 1: wraps to 1 in 32 bits */
	"4294967296",
};

static void
check_bad_numbers(const char *name, unsigned int min, unsigned int max)
{
	struct mpa_config cfg;
	char var[128], want[ERRLEN], err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(bad_numbers); i++) {
		snprintf(var, sizeof(var), "%s=%s", name, bad_numbers[i]);
		assert_int_equal(parse1(&cfg, var, err), -EINVAL);
		assert_defaults(&cfg);
		range_msg(want, sizeof(want), name, bad_numbers[i], min, max);
		assert_string_equal(err, want);
	}
}

static void
test_stuck_ms_rejected(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];

	check_bad_numbers("MPAUDIT_STUCK_MS", 1, 86400000);

	assert_int_equal(parse1(&cfg, "MPAUDIT_STUCK_MS=0", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_STUCK_MS='0': expected an integer from 1 to 86400000");
	assert_int_equal(parse1(&cfg, "MPAUDIT_STUCK_MS=86400001", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_STUCK_MS='86400001': expected an integer from 1 to 86400000");
}

static void
test_scan_ms_rejected(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];

	check_bad_numbers("MPAUDIT_SCAN_MS", 0, 3600000);

	assert_int_equal(parse1(&cfg, "MPAUDIT_SCAN_MS=3600001", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_SCAN_MS='3600001': expected an integer from 0 to 3600000");
}

static void
test_summary_rejected(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];

	check_bad_numbers("MPAUDIT_SUMMARY", 0, 1);

	assert_int_equal(parse1(&cfg, "MPAUDIT_SUMMARY=2", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_SUMMARY='2': expected an integer from 0 to 1");
	assert_int_equal(parse1(&cfg, "MPAUDIT_SUMMARY=yes", err), -EINVAL);
	assert_string_equal(err,
		"invalid MPAUDIT_SUMMARY='yes': expected an integer from 0 to 1");
}

static void
test_report_ms_bounds(void **state)
{
	static const struct {
		const char *var;
		uint32_t want;
	} ok[] = {
		{ "MPAUDIT_REPORT_MS=0", 0 },
		{ "MPAUDIT_REPORT_MS=1", 1 },
		{ "MPAUDIT_REPORT_MS=10000", 10000 },
		{ "MPAUDIT_REPORT_MS=3600000", 3600000 },
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		assert_int_equal(parse1(&cfg, ok[i].var, err), 0);
		assert_int_equal(cfg.report_ms, ok[i].want);
		assert_int_equal(cfg.scan_ms, 1000);
		assert_string_equal(err, "");
	}
}

static void
test_report_ms_rejected(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];

	check_bad_numbers("MPAUDIT_REPORT_MS", 0, 3600000);

	assert_int_equal(parse1(&cfg, "MPAUDIT_REPORT_MS=3600001", err), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_REPORT_MS='3600001': expected an integer from 0 to 3600000");
}

static void
test_history_scans(void **state)
{
	static const struct {
		const char *var;
		uint32_t want;
	} ok[] = {
		{ "MPAUDIT_HISTORY_SCANS=0", 0 },
		{ "MPAUDIT_HISTORY_SCANS=1", 1 },
		{ "MPAUDIT_HISTORY_SCANS=1000000", 1000000 },
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	mpa_config_defaults(&cfg);
	assert_int_equal(cfg.history_scans, 3600);
	for (size_t i = 0; i < RTE_DIM(ok); i++) {
		assert_int_equal(parse1(&cfg, ok[i].var, err), 0);
		assert_int_equal(cfg.history_scans, ok[i].want);
		assert_string_equal(err, "");
	}
	check_bad_numbers("MPAUDIT_HISTORY_SCANS", 0, 1000000);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HISTORY_SCANS=1000001", err),
			 -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_HISTORY_SCANS='1000001': expected an integer from 0 to 1000000");
}

/*
 * MPAUDIT_HISTORY: 0 (off) to the 4 stamps that fit in the object header;
 * anything else is refused with the bound and its reason.
 */
static void
test_history(void **state)
{
	static const char tail[] =
		"': expected an integer from 0 to 4 (previous stamps kept per object, as many as fit in the mempool object header)";
	static const char *const bad[] = {
		"5", "x", "", "-1", "+2", " 3", "3 ", "0x2", "4294967297", "2.0",
	};
	struct mpa_config cfg;
	char err[ERRLEN], var[64], want[ERRLEN];

	assert_int_equal(MPA_OBJHIST_MAX, 4);
	mpa_config_defaults(&cfg);
	assert_int_equal(cfg.history, 0);
	for (uint32_t k = 0; k <= 4; k++) {
		snprintf(var, sizeof(var), "MPAUDIT_HISTORY=%u", k);
		assert_int_equal(parse1(&cfg, var, err), 0);
		assert_int_equal(cfg.history, k);
		assert_string_equal(err, "");
	}
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		snprintf(var, sizeof(var), "MPAUDIT_HISTORY=%s", bad[i]);
		assert_int_equal(parse1(&cfg, var, err), -EINVAL);
		assert_defaults(&cfg);
		snprintf(want, sizeof(want), "invalid MPAUDIT_HISTORY='%s%s",
			 bad[i], tail);
		assert_string_equal(err, want);
	}
	/* Not MPAUDIT_HISTORY_SCANS, and the other way round. */
	assert_int_equal(parse1(&cfg, "MPAUDIT_HISTORY_SCANS=5", err), 0);
	assert_int_equal(cfg.history, 0);
	assert_int_equal(cfg.history_scans, 5);
}

/* An absolute path with room for the capture's name, else refused. */
static void
test_pcap_dir(void **state)
{
	static const char *const bad[] = { "", "rel/dir", "./x", "~/x" };
	char var[4200], err[ERRLEN];
	struct mpa_config cfg;

	(void)state;
	assert_int_equal(parse1(&cfg, "MPAUDIT_PCAP_DIR=/var/tmp/cap", err), 0);
	assert_string_equal(cfg.pcap_dir, "/var/tmp/cap");
	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		snprintf(var, sizeof(var), "MPAUDIT_PCAP_DIR=%s", bad[i]);
		assert_int_equal(parse1(&cfg, var, err), -EINVAL);
		assert_defaults(&cfg);
		assert_non_null(strstr(err, "expected an absolute directory path"));
	}
	/* The longest accepted leaves room for "/NAME.json". */
	memset(var, 0, sizeof(var));
	strcpy(var, "MPAUDIT_PCAP_DIR=/");
	memset(var + strlen(var), 'd', sizeof(cfg.pcap_dir) - 40 - 2);
	assert_int_equal(parse1(&cfg, var, err), 0);
	assert_int_equal(strlen(cfg.pcap_dir), sizeof(cfg.pcap_dir) - 40 - 1);
	strcat(var, "d");
	assert_int_equal(parse1(&cfg, var, err), -EINVAL);
	assert_defaults(&cfg);
}

static void
test_unknown_variable(void **state)
{
	static const char *const names[] = {
		"MPAUDIT_FOO",
		"MPAUDIT_",
		"MPAUDIT_stuck_ms",
		"MPAUDIT_STUCK_MS_",
		"MPAUDIT_STUCK",
		"MPAUDIT_REPORTS",
	};
	struct mpa_config cfg;
	char var[128], want[ERRLEN], err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(names); i++) {
		snprintf(var, sizeof(var), "%s=1", names[i]);
		assert_int_equal(parse1(&cfg, var, err), -EINVAL);
		assert_defaults(&cfg);
		snprintf(want, sizeof(want), "unknown variable %s%s", names[i],
			 unknown_tail);
		assert_string_equal(err, want);
	}
}

/* An error anywhere undoes the variables applied before it. */
static void
test_error_resets_to_defaults(void **state)
{
	char *envp[] = {
		"MPAUDIT_STUCK_MS=7",
		"MPAUDIT_SUMMARY=0",
		"MPAUDIT_REPORT=/tmp/r.json",
		"MPAUDIT_SCAN_MS=12ms",
		NULL
	};
	char *envp2[] = {
		"MPAUDIT_SCAN_MS=3",
		"MPAUDIT_FOO=1",
		"MPAUDIT_STUCK_MS=9",
		NULL
	};
	char *envp3[] = {
		"MPAUDIT_SUMMARY=+1",
		"MPAUDIT_STUCK_MS=0",   /* second error: not the one named */
		NULL
	};
	struct mpa_config cfg;
	char err[ERRLEN], want[ERRLEN];

	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp, err, sizeof(err)), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_SCAN_MS='12ms': expected an integer from 0 to 3600000");

	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp2, err, sizeof(err)), -EINVAL);
	assert_defaults(&cfg);
	snprintf(want, sizeof(want), "unknown variable MPAUDIT_FOO%s", unknown_tail);
	assert_string_equal(err, want);

	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp3, err, sizeof(err)), -EINVAL);
	assert_defaults(&cfg);
	assert_string_equal(err,
		"invalid MPAUDIT_SUMMARY='+1': expected an integer from 0 to 1");
}

/* A good run after a failed one starts from the defaults again. */
static void
test_parse_starts_from_defaults(void **state)
{
	char *first[] = { "MPAUDIT_STUCK_MS=10", "MPAUDIT_REPORT=x", NULL };
	char *second[] = { "MPAUDIT_SCAN_MS=10", NULL };
	struct mpa_config cfg;
	char err[ERRLEN];

	assert_int_equal(mpa_config_parse(&cfg, first, err, sizeof(err)), 0);
	assert_int_equal(cfg.stuck_ms, 10);
	assert_string_equal(cfg.report_path, "x");
	assert_int_equal(mpa_config_parse(&cfg, second, err, sizeof(err)), 0);
	assert_int_equal(cfg.stuck_ms, 5000);
	assert_int_equal(cfg.scan_ms, 10);
	assert_string_equal(cfg.report_path, "");
}

static void
test_err_buffer_limits(void **state)
{
	char *envp[] = { "MPAUDIT_STUCK_MS=0", NULL };
	struct mpa_config cfg;
	char err[16];

	/* No buffer: still rejected, still reset. */
	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp, NULL, 0), -EINVAL);
	assert_defaults(&cfg);

	/* Zero-length buffer: not written. */
	memset(err, 'z', sizeof(err));
	dirty(&cfg);
	assert_int_equal(mpa_config_parse(&cfg, envp, err, 0), -EINVAL);
	assert_defaults(&cfg);
	assert_int_equal(err[0], 'z');

	/* Short buffer: truncated and terminated. */
	memset(err, 'z', sizeof(err));
	assert_int_equal(mpa_config_parse(&cfg, envp, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "invalid MPAUDIT");
}

/* Heap variables: every accepted form, exactly. */
static void
test_heap_valid(void **state)
{
	struct mpa_config cfg;
	char err[ERRLEN];
	char var[64];

	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP=all", err), 0);
	assert_int_equal(cfg.heap, 3);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP=libc", err), 0);
	assert_int_equal(cfg.heap, 1);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP=rte", err), 0);
	assert_int_equal(cfg.heap, 2);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP=off", err), 0);
	assert_int_equal(cfg.heap, 0);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP_DEPTH=1", err), 0);
	assert_int_equal(cfg.heap_depth, 1);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP_DEPTH=64", err), 0);
	assert_int_equal(cfg.heap_depth, 64);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP_TRACK=manual", err), 0);
	assert_int_equal(cfg.heap_manual, 1);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP_TRACK=init", err), 0);
	assert_int_equal(cfg.heap_manual, 0);
	assert_int_equal(parse1(&cfg, "MPAUDIT_HEAP_MAX_MB=1", err), 0);
	assert_int_equal(cfg.heap_max_mb, 1);
	assert_int_equal(parse1(&cfg, "MPAUDIT_DUMP_SIGNAL=off", err), 0);
	assert_int_equal(cfg.dump_signal, 0);
	assert_int_equal(parse1(&cfg, "MPAUDIT_DUMP_SIGNAL=RTMIN", err), 0);
	assert_int_equal(cfg.dump_signal, SIGRTMIN);
	assert_int_equal(parse1(&cfg, "MPAUDIT_DUMP_SIGNAL=SIGRTMIN+3", err), 0);
	assert_int_equal(cfg.dump_signal, SIGRTMIN + 3);
	assert_int_equal(parse1(&cfg, "MPAUDIT_TRACK_SIGNAL=RTMIN+2", err), 0);
	assert_int_equal(cfg.track_signal, SIGRTMIN + 2);
	assert_int_equal(cfg.dump_signal, SIGRTMIN);
	snprintf(var, sizeof(var), "MPAUDIT_TRACK_SIGNAL=%d", SIGRTMAX);
	assert_int_equal(parse1(&cfg, var, err), 0);
	assert_int_equal(cfg.track_signal, SIGRTMAX);
	assert_string_equal(err, "");
}

static void
test_heap_rejected(void **state)
{
	static const struct {
		const char *var;
		const char *msg;
	} bad[] = {
		{ "MPAUDIT_HEAP=yes", "invalid MPAUDIT_HEAP='yes': expected all, rte, libc or off" },
		{ "MPAUDIT_HEAP=", "invalid MPAUDIT_HEAP='': expected all, rte, libc or off" },
		{ "MPAUDIT_HEAP_DEPTH=0", "invalid MPAUDIT_HEAP_DEPTH='0': expected an integer from 1 to 64" },
		{ "MPAUDIT_HEAP_DEPTH=65", "invalid MPAUDIT_HEAP_DEPTH='65': expected an integer from 1 to 64" },
		{ "MPAUDIT_HEAP_DEPTH=abc", "invalid MPAUDIT_HEAP_DEPTH='abc': expected an integer from 1 to 64" },
		{ "MPAUDIT_HEAP_TRACK=sometimes", "invalid MPAUDIT_HEAP_TRACK='sometimes': expected init or manual" },
		{ "MPAUDIT_HEAP_MAX_MB=0", "invalid MPAUDIT_HEAP_MAX_MB='0': expected an integer from 1 to 1048576" },
		{ "MPAUDIT_DUMP_SIGNAL=9", "invalid MPAUDIT_DUMP_SIGNAL='9': expected off, RTMIN, RTMIN+k or a real-time signal number" },
		{ "MPAUDIT_DUMP_SIGNAL=99", "invalid MPAUDIT_DUMP_SIGNAL='99': expected off, RTMIN, RTMIN+k or a real-time signal number" },
		{ "MPAUDIT_DUMP_SIGNAL=RTMIN+99", "invalid MPAUDIT_DUMP_SIGNAL='RTMIN+99': expected off, RTMIN, RTMIN+k or a real-time signal number" },
		{ "MPAUDIT_TRACK_SIGNAL=RTMINX", "invalid MPAUDIT_TRACK_SIGNAL='RTMINX': expected off, RTMIN, RTMIN+k or a real-time signal number" },
		{ "MPAUDIT_TRACK_SIGNAL=-1", "invalid MPAUDIT_TRACK_SIGNAL='-1': expected off, RTMIN, RTMIN+k or a real-time signal number" },
	};
	struct mpa_config cfg;
	char err[ERRLEN];

	for (size_t i = 0; i < RTE_DIM(bad); i++) {
		assert_int_equal(parse1(&cfg, bad[i].var, err), -EINVAL);
		assert_string_equal(err, bad[i].msg);
		assert_defaults(&cfg);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_empty_env),
		cmocka_unit_test(test_other_variables_ignored),
		cmocka_unit_test(test_all_valid),
		cmocka_unit_test(test_stuck_ms_bounds),
		cmocka_unit_test(test_scan_ms_bounds),
		cmocka_unit_test(test_summary_values),
		cmocka_unit_test(test_report_ms_bounds),
		cmocka_unit_test(test_report_ms_rejected),
		cmocka_unit_test(test_history_scans),
		cmocka_unit_test(test_history),
		cmocka_unit_test(test_pcap_dir),
		cmocka_unit_test(test_report_path),
		cmocka_unit_test(test_stuck_ms_rejected),
		cmocka_unit_test(test_scan_ms_rejected),
		cmocka_unit_test(test_summary_rejected),
		cmocka_unit_test(test_unknown_variable),
		cmocka_unit_test(test_error_resets_to_defaults),
		cmocka_unit_test(test_parse_starts_from_defaults),
		cmocka_unit_test(test_err_buffer_limits),
		cmocka_unit_test(test_heap_valid),
		cmocka_unit_test(test_heap_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
