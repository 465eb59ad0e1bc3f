/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_CONFIG_H
#define MPA_CONFIG_H

/*
 * Configuration parsing. Pure: reads an environment array, so the unit
 * tests can feed it any set of variables.
 */

#include <stddef.h>
#include <stdint.h>

#include "mpaudit.h"

/** Upper bound of MPAUDIT_STUCK_MS: one day. */
#define MPA_MAX_STUCK_MS 86400000u
/** Upper bound of MPAUDIT_SCAN_MS: one hour. */
#define MPA_MAX_SCAN_MS 3600000u

/** Default and upper bound of MPAUDIT_REPORT_MS: ten seconds, one hour. */
#define MPA_DEFAULT_REPORT_MS 10000u
#define MPA_MAX_REPORT_MS 3600000u

/** Default and upper bound of MPAUDIT_HEAP_DEPTH (frames per stack). */
#define MPA_DEFAULT_HEAP_DEPTH 16u
#define MPA_MAX_HEAP_DEPTH 64u

/** Room left after MPAUDIT_PCAP_DIR for "/NAME.json" (NAME: 31 at most). */
#define MPA_PCAP_NAME_ROOM 40u

/** Default and upper bound of MPAUDIT_HEAP_MAX_MB. */
#define MPA_DEFAULT_HEAP_MAX_MB 4096u
#define MPA_MAX_HEAP_MAX_MB 1048576u

/**
 * Strict decimal: digits only, no sign, no trailing text, within
 * [@p min, @p max]. The one number parser of every setting, whether it
 * comes from the environment or over telemetry.
 * @return 0, -EINVAL (not a number) or -ERANGE; @p out is then untouched.
 */
int mpa_config_parse_u32(const char *s, uint32_t min, uint32_t max,
			 uint32_t *out);

/** Fill @p cfg with the built-in defaults. */
void mpa_config_defaults(struct mpa_config *cfg);

/**
 * Apply every MPAUDIT_* variable of @p envp (NULL-terminated "NAME=value"
 * strings) to @p cfg.
 *
 * @return 0, or -EINVAL with a one-line message naming the variable in
 *   @p err; @p cfg is then reset to the defaults.
 */
int mpa_config_parse(struct mpa_config *cfg, char *const envp[],
		     char *err, size_t errlen);

#endif /* MPA_CONFIG_H */
