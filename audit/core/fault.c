/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <stdlib.h>
#include <string.h>

#include "fault.h"
#include "log.h"

#define MPA_FAULT_ENV "MPA_FAULT_INJECT"

unsigned int mpa_faults;

static const struct {
	const char *name;
	unsigned int bit;
} fault_tables[] = {
	{ "pool_table", MPA_FAULT_POOL_TABLE },
	{ "holder_table", MPA_FAULT_HOLDER_TABLE },
	{ "reach_scan", MPA_FAULT_REACH_SCAN },
	{ "history", MPA_FAULT_HISTORY },
	{ "sites", MPA_FAULT_SITES },
	{ "dynfield", MPA_FAULT_DYNFIELD },
};

void
mpa_fault_init(void)
{
	const char *v = getenv(MPA_FAULT_ENV);

	mpa_faults = 0;
	while (v != NULL && *v != '\0') {
		size_t n = strcspn(v, ",");
		unsigned int i;

		for (i = 0; i < RTE_DIM(fault_tables); i++)
			if (strlen(fault_tables[i].name) == n &&
			    strncmp(v, fault_tables[i].name, n) == 0)
				break;
		if (i < RTE_DIM(fault_tables)) {
			mpa_faults |= fault_tables[i].bit;
			MPA_LOG(WARNING, "test fault injection: allocations of the %s fail",
				fault_tables[i].name);
		} else {
			MPA_LOG(WARNING, "%s: unknown table '%.*s' ignored",
				MPA_FAULT_ENV, (int)n, v);
		}
		v += n;
		if (*v == ',')
			v++;
	}
}
