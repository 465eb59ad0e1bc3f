/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include "config.h"
#include "state.h"

static const char *mode = MPA_MODE_INSTRUMENTED;
static struct mpa_config running;
static int is_running;

void
mpa_state_set_mode(const char *m)
{
	mode = m;
}

const char *
mpa_state_mode(void)
{
	return mode;
}

void
mpa_state_publish(const struct mpa_config *cfg)
{
	if (cfg != NULL)
		running = *cfg;
	is_running = cfg != NULL;
}

void
mpa_state_config(struct mpa_config *cfg)
{
	if (is_running)
		*cfg = running;
	else
		mpa_config_defaults(cfg);
}
