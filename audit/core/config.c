/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "history.h"
#include "mpaudit_stamp.h"

#define MPA_ENV_PREFIX "MPAUDIT_"

extern char **environ;

void
mpa_config_defaults(struct mpa_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->stuck_ms = MPA_DEFAULT_STUCK_MS;
	cfg->scan_ms = MPA_DEFAULT_SCAN_MS;
	cfg->report_ms = MPA_DEFAULT_REPORT_MS;
	cfg->history_scans = MPA_DEFAULT_HISTORY_SCANS;
	cfg->summary = 1;
	cfg->heap = 3;
	cfg->heap_depth = MPA_DEFAULT_HEAP_DEPTH;
	cfg->heap_max_mb = MPA_DEFAULT_HEAP_MAX_MB;
	cfg->dump_signal = SIGRTMIN;
	cfg->track_signal = SIGRTMIN + 1;
}

int
mpa_config_parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		v = v * 10 + (unsigned int)(*s - '0');
		if (v > max)
			return -ERANGE;
	}
	if (v < min)
		return -ERANGE;
	*out = (uint32_t)v;
	return 0;
}

static int
range_error(char *err, size_t errlen, const char *name, const char *value,
	    uint32_t min, uint32_t max)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen,
			 "invalid %s='%s': expected an integer from %u to %u",
			 name, value, min, max);
	return -EINVAL;
}

static int
bad_value(char *err, size_t errlen, const char *name, const char *value,
	  const char *expected)
{
	if (err != NULL && errlen > 0)
		snprintf(err, errlen, "invalid %s='%s': expected %s", name,
			 value, expected);
	return -EINVAL;
}

/*
 * A real-time signal: "off", "RTMIN", "RTMIN+k", "SIGRTMIN+k" or its
 * number. Other signals are refused: the application or the EAL may own
 * them, and a default action of a standard signal could kill the host.
 */
static int
parse_signal(const char *s, int *out)
{
	uint32_t k = 0;

	if (strcmp(s, "off") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	if (strncmp(s, "RTMIN", 5) == 0) {
		if (s[5] == '+' && mpa_config_parse_u32(s + 6, 0, 64, &k) != 0)
			return -EINVAL;
		if (s[5] != '\0' && s[5] != '+')
			return -EINVAL;
		k += (uint32_t)SIGRTMIN;
	} else if (mpa_config_parse_u32(s, 1, 1024, &k) != 0) {
		return -EINVAL;
	}
	if ((int)k < SIGRTMIN || (int)k > SIGRTMAX)
		return -ERANGE;
	*out = (int)k;
	return 0;
}

int
mpa_config_parse(struct mpa_config *cfg, char *const envp[], char *err,
		 size_t errlen)
{
	size_t plen = strlen(MPA_ENV_PREFIX);
	char name[64];
	int rc = 0;

	mpa_config_defaults(cfg);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	for (; envp != NULL && *envp != NULL && rc == 0; envp++) {
		const char *var = *envp;
		const char *eq = strchr(var, '=');
		const char *val;
		size_t nlen;

		if (strncmp(var, MPA_ENV_PREFIX, plen) != 0 || eq == NULL)
			continue;
		nlen = (size_t)(eq - var);
		if (nlen >= sizeof(name))
			nlen = sizeof(name) - 1;
		memcpy(name, var, nlen);
		name[nlen] = '\0';
		val = eq + 1;

		if (strcmp(name, "MPAUDIT_STUCK_MS") == 0) {
			if (mpa_config_parse_u32(val, 1, MPA_MAX_STUCK_MS, &cfg->stuck_ms) != 0)
				rc = range_error(err, errlen, name, val,
						 1, MPA_MAX_STUCK_MS);
		} else if (strcmp(name, "MPAUDIT_SCAN_MS") == 0) {
			if (mpa_config_parse_u32(val, 0, MPA_MAX_SCAN_MS, &cfg->scan_ms) != 0)
				rc = range_error(err, errlen, name, val,
						 0, MPA_MAX_SCAN_MS);
		} else if (strcmp(name, "MPAUDIT_REPORT_MS") == 0) {
			if (mpa_config_parse_u32(val, 0, MPA_MAX_REPORT_MS, &cfg->report_ms) != 0)
				rc = range_error(err, errlen, name, val,
						 0, MPA_MAX_REPORT_MS);
		} else if (strcmp(name, "MPAUDIT_HISTORY_SCANS") == 0) {
			if (mpa_config_parse_u32(val, 0, MPA_MAX_HISTORY_SCANS,
				      &cfg->history_scans) != 0)
				rc = range_error(err, errlen, name, val,
						 0, MPA_MAX_HISTORY_SCANS);
		} else if (strcmp(name, "MPAUDIT_HISTORY") == 0) {
			/* The bound is the header pad's room: say so. */
			char what[128];

			snprintf(what, sizeof(what),
				 "an integer from 0 to %u (previous stamps kept per object, as many as fit in the mempool object header)",
				 (unsigned int)MPA_OBJHIST_MAX);
			if (mpa_config_parse_u32(val, 0, MPA_OBJHIST_MAX,
						 &cfg->history) != 0)
				rc = bad_value(err, errlen, name, val, what);
		} else if (strcmp(name, "MPAUDIT_SUMMARY") == 0) {
			uint32_t v;

			if (mpa_config_parse_u32(val, 0, 1, &v) != 0)
				rc = range_error(err, errlen, name, val, 0, 1);
			else
				cfg->summary = (int)v;
		} else if (strcmp(name, "MPAUDIT_HEAP") == 0) {
			if (strcmp(val, "all") == 0)
				cfg->heap = 3;
			else if (strcmp(val, "libc") == 0)
				cfg->heap = 1;
			else if (strcmp(val, "rte") == 0)
				cfg->heap = 2;
			else if (strcmp(val, "off") == 0)
				cfg->heap = 0;
			else
				rc = bad_value(err, errlen, name, val,
					       "all, rte, libc or off");
		} else if (strcmp(name, "MPAUDIT_HEAP_DEPTH") == 0) {
			if (mpa_config_parse_u32(val, 1, MPA_MAX_HEAP_DEPTH, &cfg->heap_depth) != 0)
				rc = range_error(err, errlen, name, val, 1,
						 MPA_MAX_HEAP_DEPTH);
		} else if (strcmp(name, "MPAUDIT_HEAP_TRACK") == 0) {
			if (strcmp(val, "init") == 0)
				cfg->heap_manual = 0;
			else if (strcmp(val, "manual") == 0)
				cfg->heap_manual = 1;
			else
				rc = bad_value(err, errlen, name, val,
					       "init or manual");
		} else if (strcmp(name, "MPAUDIT_HEAP_MAX_MB") == 0) {
			if (mpa_config_parse_u32(val, 1, MPA_MAX_HEAP_MAX_MB, &cfg->heap_max_mb) != 0)
				rc = range_error(err, errlen, name, val, 1,
						 MPA_MAX_HEAP_MAX_MB);
		} else if (strcmp(name, "MPAUDIT_DUMP_SIGNAL") == 0 ||
			   strcmp(name, "MPAUDIT_TRACK_SIGNAL") == 0) {
			int *sig = name[8] == 'D' ? &cfg->dump_signal :
						     &cfg->track_signal;

			if (parse_signal(val, sig) != 0)
				rc = bad_value(err, errlen, name, val,
					       "off, RTMIN, RTMIN+k or a real-time signal number");
		} else if (strcmp(name, "MPAUDIT_PCAP_DIR") == 0) {
			/*
			 * Absolute, so that what telemetry asks for lands where
			 * the operator said whatever the working directory; room
			 * is left for "/NAME.json".
			 */
			if (val[0] != '/' ||
			    strlen(val) >= sizeof(cfg->pcap_dir) - MPA_PCAP_NAME_ROOM)
				rc = bad_value(err, errlen, name, val,
					       "an absolute directory path");
			else
				strcpy(cfg->pcap_dir, val);
		} else if (strcmp(name, "MPAUDIT_REPORT") == 0) {
			if (*val == '\0' || strlen(val) >= sizeof(cfg->report_path)) {
				if (err != NULL && errlen > 0)
					snprintf(err, errlen,
						 "invalid %s='%s': expected a file path",
						 name, val);
				rc = -EINVAL;
			} else {
				strcpy(cfg->report_path, val);
			}
		} else {
			if (err != NULL && errlen > 0)
				snprintf(err, errlen,
					 "unknown variable %s (known: MPAUDIT_STUCK_MS, MPAUDIT_SCAN_MS, MPAUDIT_REPORT, MPAUDIT_REPORT_MS, MPAUDIT_HISTORY_SCANS, MPAUDIT_HISTORY, MPAUDIT_PCAP_DIR, MPAUDIT_SUMMARY, MPAUDIT_HEAP, MPAUDIT_HEAP_DEPTH, MPAUDIT_HEAP_TRACK, MPAUDIT_HEAP_MAX_MB, MPAUDIT_DUMP_SIGNAL, MPAUDIT_TRACK_SIGNAL)",
					 name);
			rc = -EINVAL;
		}
	}
	if (rc != 0)
		mpa_config_defaults(cfg);
	return rc;
}

/*
 * The report is written at exit; a path that cannot be written is a bad
 * configuration, better said at start than after a day of soak.
 */
static int
check_report_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct mpa_config *)0)->report_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if (access(dir, W_OK | X_OK) == 0)
		return 0;
	if (err != NULL && errlen > 0)
		snprintf(err, errlen,
			 "invalid MPAUDIT_REPORT='%s': cannot write in directory '%s': %s",
			 path, dir, strerror(errno));
	return -EINVAL;
}

int
mpa_config_from_env(struct mpa_config *cfg, char *err, size_t errlen)
{
	int rc = mpa_config_parse(cfg, environ, err, errlen);

	if (rc == 0 && cfg->report_path[0] != '\0') {
		rc = check_report_dir(cfg->report_path, err, errlen);
		if (rc != 0)
			mpa_config_defaults(cfg);
	}
	return rc;
}
