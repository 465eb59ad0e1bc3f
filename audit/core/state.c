/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include <pthread.h>

#include "config.h"
#include "state.h"

static const char *mode = MPA_MODE_INSTRUMENTED;
/* The configuration changes at run time (/mpaudit/config): copy it whole. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
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
	pthread_mutex_lock(&lock);
	if (cfg != NULL)
		running = *cfg;
	is_running = cfg != NULL;
	pthread_mutex_unlock(&lock);
}

int
mpa_state_config(struct mpa_config *cfg)
{
	int on;

	pthread_mutex_lock(&lock);
	on = is_running;
	if (is_running)
		*cfg = running;
	else
		mpa_config_defaults(cfg);
	pthread_mutex_unlock(&lock);
	return on;
}
