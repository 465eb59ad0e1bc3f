/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_STATE_H
#define MPA_STATE_H

/*
 * The running auditor's mode and configuration, published by the code
 * that starts and stops it (audit/mpaudit.c) and read by the surfaces.
 * It lives in core so that a surface reads what it renders without
 * calling back into the lifecycle that calls it.
 */

#include "mpaudit.h"

/** Values of the mode: how the application was attached. */
#define MPA_MODE_INSTRUMENTED "instrumented"
#define MPA_MODE_PRELOAD "preload"

/** Set the mode (one of MPA_MODE_*; a static string). */
void mpa_state_set_mode(const char *mode);

/** The mode; MPA_MODE_INSTRUMENTED until set. */
const char *mpa_state_mode(void);

/** Publish the configuration in force (copied), or NULL once stopped. */
void mpa_state_publish(const struct mpa_config *cfg);

/**
 * The configuration in force, or the defaults while not running.
 * @return 1 while running (a configuration is published), else 0.
 */
int mpa_state_config(struct mpa_config *cfg);

#endif /* MPA_STATE_H */
