/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_string_fns.h>

#include "errors.h"
#include "log.h"

/*
 * A slot is claimed with one atomic increment and filled by its claimer;
 * `ready` publishes it to the report. Errors are rare, so this never
 * contends; the datapath that detects one pays for the log line only.
 */
static struct mpa_error errs[MPA_ERRORS_MAX];
static uint8_t ready[MPA_ERRORS_MAX];
static uint64_t nerrs;

const char *
mpa_error_type_name(enum mpa_error_type type)
{
	switch (type) {
	case MPA_ERR_DOUBLE_FREE: return "double_free";
	case MPA_ERR_STRAY_FREE: return "stray_free";
	case MPA_ERR_FOREIGN_FREE: return "foreign_free";
	}
	return "unknown";
}

/* ", in lcore N's cache" for an error found by the scanner. */
static const char *
lcore_note(int lcore)
{
	static __thread char buf[32];

	if (lcore < 0)
		return ", twice in its ring";
	snprintf(buf, sizeof(buf), ", in lcore %d's cache", lcore);
	return buf;
}

static void
record(enum mpa_error_type type, const char *where, uintptr_t addr,
       const char *site, const char *first_site, int lcore, int kept)
{
	uint64_t i = __atomic_fetch_add(&nerrs, 1, __ATOMIC_RELAXED);
	struct mpa_error *e;

	if (i < MPA_ERRORS_LOGGED)
		MPA_LOG(ERR, "%s of %#" PRIxPTR " in %s%s%s%s%s%s; %s",
			mpa_error_type_name(type), addr,
			where != NULL ? where : "?",
			site != NULL ? " at " : "", site != NULL ? site : "",
			first_site != NULL ? ", first at " : "",
			first_site != NULL ? first_site : "",
			kept ? "" : lcore_note(lcore),
			kept ? "kept out of the pool or heap" :
			"found among the pool's free objects, too late to keep out");
	if (i >= MPA_ERRORS_MAX)
		return;
	e = &errs[i];
	e->type = type;
	e->addr = addr;
	rte_strscpy(e->where, where != NULL ? where : "", sizeof(e->where));
	rte_strscpy(e->site, site != NULL ? site : "", sizeof(e->site));
	rte_strscpy(e->first_site, first_site != NULL ? first_site : "",
		    sizeof(e->first_site));
	e->lcore = lcore;
	__atomic_store_n(&ready[i], 1, __ATOMIC_RELEASE);
}

uint64_t
mpa_error_count(void)
{
	return __atomic_load_n(&nerrs, __ATOMIC_ACQUIRE);
}

const struct mpa_error *
mpa_error_get(uint64_t i)
{
	if (i >= MPA_ERRORS_MAX || i >= mpa_error_count() ||
	    !__atomic_load_n(&ready[i], __ATOMIC_ACQUIRE))
		return NULL;
	return &errs[i];
}

void
mpa_errors_reset(void)
{
	memset(ready, 0, sizeof(ready));
	__atomic_store_n(&nerrs, 0, __ATOMIC_RELEASE);
}

void
mpa_error_report(enum mpa_error_type type, const char *where, uintptr_t addr,
		 const char *site, const char *first_site)
{
	record(type, where, addr, site, first_site, -1, 1);
}

void
mpa_error_report_lcore(enum mpa_error_type type, const char *where,
		       uintptr_t addr, const char *site, const char *first_site,
		       int lcore)
{
	record(type, where, addr, site, first_site, lcore, 1);
}

void
mpa_error_found(enum mpa_error_type type, const char *where, uintptr_t addr,
		int lcore)
{
	record(type, where, addr, NULL, NULL, lcore, 0);
}
