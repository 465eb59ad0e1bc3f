/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_ERRORS_H
#define MPA_ERRORS_H

/*
 * Free errors: double free, stray free (a pointer that was never an
 * object), foreign free (returned to the wrong pool or heap). Whoever
 * detects one reports it here and keeps the object away from the pool or
 * heap; the reports go to the log once per address and to the `errors`
 * array of the JSON report, and make the exit status 3.
 *
 * mpa_error_report() may be called from any thread, datapath included: it
 * takes no lock (a slot is claimed with an atomic counter) and logs only
 * the first MPA_ERRORS_LOGGED errors.
 */

#include <stdint.h>

/** Errors kept for the report; later ones are only counted. */
#define MPA_ERRORS_MAX 1024
/** Errors logged as they happen. */
#define MPA_ERRORS_LOGGED 32

enum mpa_error_type {
	MPA_ERR_DOUBLE_FREE = 0,
	MPA_ERR_STRAY_FREE,
	MPA_ERR_FOREIGN_FREE,
};

struct mpa_error {
	enum mpa_error_type type;
	char where[32];        /**< pool or heap name */
	uintptr_t addr;
	char site[96];         /**< where the bad free happened, "" if unknown */
	char first_site[96];   /**< where it was first freed/allocated, or "" */
	int lcore;             /**< lcore that freed it (or whose cache holds it), -1 */
};

/** Record one free error. Strings may be NULL. */
void mpa_error_report(enum mpa_error_type type, const char *where,
		      uintptr_t addr, const char *site, const char *first_site);

/** The same, with the lcore that made the bad free (-1: none). */
void mpa_error_report_lcore(enum mpa_error_type type, const char *where,
			    uintptr_t addr, const char *site,
			    const char *first_site, int lcore);

/**
 * A double free found after the fact (the scanner saw the object twice
 * among the pool's free objects): nothing was kept out. @p lcore is the
 * lcore whose cache holds a copy, -1 if both are in the ring.
 */
void mpa_error_found(enum mpa_error_type type, const char *where,
		     uintptr_t addr, int lcore);

/** Errors recorded (all, also beyond MPA_ERRORS_MAX). */
uint64_t mpa_error_count(void);

/** Error @p i (i < min(count, MPA_ERRORS_MAX)), or NULL. */
const struct mpa_error *mpa_error_get(uint64_t i);

/** Report name of an error type. */
const char *mpa_error_type_name(enum mpa_error_type type);

/** Forget every error (auditor shutdown). */
void mpa_errors_reset(void);

#endif /* MPA_ERRORS_H */
