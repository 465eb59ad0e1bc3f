/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_LOG_H
#define MPA_LOG_H

/*
 * mpaudit logs through its own rte_log type, "mpaudit", so users filter it
 * with the usual EAL option (--log-level=mpaudit:debug).
 */

#include <rte_log.h>

extern int mpa_logtype;

#define MPA_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_ ## level, mpa_logtype, "mpaudit: " fmt "\n", ##__VA_ARGS__)

#endif /* MPA_LOG_H */
