/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_FWD_ARGS_H
#define MPA_FWD_ARGS_H

/*
 * Command line of mpaudit-fwd: EAL arguments before "--", application
 * arguments after it. Everything here runs before rte_eal_init(), so that
 * a usage error never costs an EAL start and always exits with status 2.
 */

#include <stdint.h>

#define FWD_PROG "mpaudit-fwd"

/* Exit statuses shared with the mpaudit tools (see PRODUCT.md). */
#define FWD_EXIT_CLEAN 0
#define FWD_EXIT_FAILED 1
#define FWD_EXIT_USAGE 2

#define FWD_MAX_BURST 512	/* largest --burst */
#define FWD_DEF_BURST 32
#define FWD_DEF_NB_MBUFS 8191	/* 2^n - 1: the size a ring-backed pool likes */
#define FWD_DEF_MBUF_CACHE 256
#define FWD_DEF_STATS_MS 1000
#define FWD_DEF_LEAK_MAX 100
/* --leak-rate bound: mbufs per second. */
#define FWD_MAX_LEAK_RATE 1000000u
/* Most mbufs --worker-leak takes: each one's truth line names it. */
#define FWD_WORKER_LEAK_MAX 64u

/* --ab-ms: shortest and longest phase. */
#define FWD_AB_MIN_MS 10u
#define FWD_AB_MAX_MS 10000u

#define FWD_MEMIF_ROLE_LEN 8

/* Application options, after parsing and validation. */
struct fwd_opts {
	uint32_t duration_s;	/* 0: run until SIGINT/SIGTERM */
	uint32_t nb_ports;	/* 0: every available port */
	uint32_t stats_ms;	/* 0: no progress lines */
	uint32_t burst;
	uint32_t nb_mbufs;
	uint32_t mbuf_cache;
	int pipeline;		/* RX lcore -> ring -> TX lcore */
	int macswap;		/* swap the MACs of every packet */

	/* Leak injection; 0 means off. */
	uint32_t leak_rx;	/* leak every Nth received mbuf */
	uint32_t leak_max;	/* ... at most this many in all */
	uint32_t leak_rate;	/* or leak this many per second */
	uint32_t ring_keep;	/* park the first K mbufs in ring fwd_keep */
	uint32_t app_leak;	/* allocate and forget K mbufs */
	uint32_t tx_hold;	/* K mbufs stuck in a never-drained TX ring */
	uint32_t worker_leak;	/* --pipeline: the TX lcore forgets the first
				   K mbufs it dequeues */
	uint32_t churn_ms;	/* create/free pool fwd_churn every MS */
	uint32_t ab_ms;		/* bench: stamps off/on every MS, 0: never */

	/* Default devices; only meaningful when default_devs is set. */
	int default_devs;	/* the EAL arguments named no device */
	const char *pcap;	/* capture replayed by net_pcap0 */
	char memif_role[FWD_MEMIF_ROLE_LEN];	/* "" unless --memif */
	const char *memif_path;
};

/* Arguments to hand to rte_eal_init(), owned by fwd_args_free(). */
struct fwd_eal_args {
	int argc;
	char **argv;		/* argc entries plus a NULL */
	char **owned;		/* strings this module allocated */
	int nb_owned;
};

/* fwd_args_parse() results besides FWD_EXIT_*. */
#define FWD_ARGS_OK (-1)

/*
 * Split @p argv at "--", parse and validate the application options into
 * @p opts, and build the EAL argument vector in @p eal, appending the
 * default virtual devices when the EAL arguments name none.
 *
 * Returns FWD_ARGS_OK to go on, FWD_EXIT_CLEAN after --help, or
 * FWD_EXIT_USAGE / FWD_EXIT_FAILED after printing a one-line error.
 */
int fwd_args_parse(int argc, char **argv, struct fwd_opts *opts,
		   struct fwd_eal_args *eal);

/* Release what fwd_args_parse() allocated; accepts a zeroed struct. */
void fwd_args_free(struct fwd_eal_args *eal);

#endif /* MPA_FWD_ARGS_H */
