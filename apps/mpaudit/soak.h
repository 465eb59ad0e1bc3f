/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/**
 * @file
 * mpaudit soak (docs/soak.md): a device under test (DUT) and a traffic
 * generator run side by side for a fixed time while the DUT's auditor is
 * sampled over telemetry; the samples give a verdict and the files of
 * the output directory.
 *
 * The parts, one file each:
 * - soak.c: the command: options, the run, the sampling loop, progress.
 * - soakrig.c: the processes: their command lines, start, watch, stop,
 *   and what they leave behind.
 * - soakverdict.c: the verdict, from the samples alone.
 * - soakout.c: samples.csv, samples.json, junit.xml, soak.json.
 * - soakhtml.c: report.html.
 *
 * Single-threaded; nothing here is shared with another thread.
 */

#ifndef MPA_SOAK_H
#define MPA_SOAK_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

/* ---- tunables -------------------------------------------------------- */

/** Default --interval, --warmup and --tolerance. */
#define MPA_SOAK_INTERVAL_S 1.0
#define MPA_SOAK_WARMUP_S 10.0
#define MPA_SOAK_TOLERANCE 0.01
/** Longest --duration: a week. */
#define MPA_SOAK_DURATION_MAX_S (7.0 * 24 * 3600)
/** How long a started process may take to answer on its telemetry socket. */
#define MPA_SOAK_READY_S 60.0
/** How long a process may take to exit after SIGINT, then SIGKILL. */
#define MPA_SOAK_STOP_GEN_S 10.0
#define MPA_SOAK_STOP_DUT_S 30.0
/** Longest sleep of the run loop, so a dead process is seen soon. */
#define MPA_SOAK_TICK_S 0.1
/** Pools and holders kept per sample and per run. */
#define MPA_SOAK_MAX_POOLS 32
#define MPA_SOAK_MAX_HOLDERS 64
#define MPA_SOAK_MAX_STACKS 64
/** Holders and stacks named in the summary. */
#define MPA_SOAK_TOP 5
/** Scan period asked of a DUT the soak starts (unless MPAUDIT_SCAN_MS). */
#define MPA_SOAK_DUT_SCAN_MS "250"
/** Report rewrite period asked of it (unless MPAUDIT_REPORT_MS). */
#define MPA_SOAK_DUT_REPORT_MS "1000"
/**
 * Significant digits of the reals in the JSON files and --json. Values
 * are rounded to 3 decimals (times, rates) and times stay below a week,
 * so 12 digits print them as rounded; jansson's default of 17 shows the
 * binary noise (30.007999999999999 for 30.008).
 */
#define MPA_SOAK_JSON_REAL_DIGITS 12
#define MPA_SOAK_JSON_FLAGS(indent) \
	(JSON_INDENT(indent) | JSON_REAL_PRECISION(MPA_SOAK_JSON_REAL_DIGITS))
/** EAL memory per process when MPA_SOAK_EAL_MEM does not say. */
#define MPA_SOAK_MEM_MB 256
/** Pktgen 23.06 creates five pools of 24576 10 KiB mbufs per port. */
#define MPA_SOAK_PKTGEN_MEM_MB 1600

/* ---- the run ----------------------------------------------------------- */

/** Which generator. */
enum mpa_soak_gen {
	MPA_SOAK_GEN_TESTPMD,	/**< Debian's dpdk-testpmd txonly, memif */
	MPA_SOAK_GEN_PKTGEN,	/**< Pktgen-DPDK over vhost/virtio_user */
	MPA_SOAK_GEN_CMD,	/**< any command line (--generator) */
	MPA_SOAK_GEN_NONE,	/**< --attach without a generator */
};

/** How the run ended. */
enum mpa_soak_end {
	MPA_SOAK_COMPLETED,
	MPA_SOAK_INTERRUPTED,	/**< SIGINT or SIGTERM */
	MPA_SOAK_GEN_DIED,
	MPA_SOAK_DUT_DIED,
	MPA_SOAK_FAILED,	/**< the soak could not start or sample */
};

/** The options of `mpaudit soak`. */
struct mpa_soak_opts {
	double duration_s;
	double interval_s;
	double warmup_s;
	double tolerance;
	const char *out;
	const char *dut;	/**< --dut CMD, NULL: mpaudit-fwd */
	const char *dut_args;	/**< --dut-args: appended to mpaudit-fwd's */
	const char *attach;	/**< --attach PREFIX */
	const char *generator;	/**< --generator CMD */
	const char *gen_prefix;	/**< --gen-prefix P: its telemetry */
	const char *pktgen_bin;
	enum mpa_soak_gen gen;
	int json;
};

/** One pool in one sample. */
struct mpa_soak_pool {
	char name[64];
	long size, in_use, stuck, driver_held;
	double rate_per_s;	/**< the DUT's forecast; NAN until it has one */
	long exhaust_s;		/**< -1: none */
};

/** One sample of the DUT and the generator. */
struct mpa_soak_sample {
	double t_s;		/**< since the start of the soak */
	double gen_mpps;	/**< NAN: not known (yet) */
	double dut_mpps;
	long in_use, stuck, errors;
	long heap_libc, heap_rte;	/**< -1: heap not tracked */
	int nb_pools;
	/*
	 * Allocated to nb_pools: a fixed array of MPA_SOAK_MAX_POOLS made a
	 * sample 3.6 KB, 2 GB for a week sampled every second.
	 */
	struct mpa_soak_pool *pools;
};

/** A stuck group of the DUT, with when it was first seen. */
struct mpa_soak_holder {
	char pool[64], state[16], ring[64], site[160], function[64];
	long lcore, port, queue;	/**< -1: does not apply */
	long count, max_age_ms;
	double first_s;
	int live;			/**< in the latest sample */
};

/** A heap call stack of the DUT: its bytes over the soak. */
struct mpa_soak_stack {
	long id;
	char kind[16];
	char stack[512];		/**< frames, innermost first, "; " */
	long bytes_first, bytes_last, bytes_max, count_last;
	double first_s, last_s;
	int grew_steps, steps;		/**< samples it grew at, of those seen */
};

/** The verdict of one pool. */
struct mpa_soak_pool_verdict {
	char name[64];
	long size, in_use_first, in_use_last, floor_first, floor_last;
	double rate_per_s;		/**< NAN: no forecast */
	double growth;			/**< objects over the measured window */
	double limit;			/**< tolerance x size */
	int failed;
};

/** The verdict. */
struct mpa_soak_verdict {
	int exit_code;			/**< MPA_EXIT_* */
	const char *word;		/**< pass, fail, interrupted, error */
	int trend_failed, stuck_failed, errors_failed, heap_failed;
	long stuck_max, errors_max;
	double window_s;		/**< measured: after the warm-up */
	int nb_pools;
	struct mpa_soak_pool_verdict pools[MPA_SOAK_MAX_POOLS];
	char reasons[8][256];
	int nb_reasons;
};

/** One started process. */
struct mpa_soak_proc {
	const char *role;		/**< "DUT", "generator" */
	char prefix[64];
	char **argv;			/**< as run; NULL-terminated */
	char cmdline[4096];		/**< for people */
	char log[4096];			/**< its stdout and stderr */
	pid_t pid;			/**< its process group leader; 0: none */
	int stdin_fd;			/**< kept open: testpmd waits on it */
	int exited, status;		/**< waitpid() status once exited */
	double exit_t_s;
};

/** Everything a run has, for the outputs. */
struct mpa_soak {
	struct mpa_soak_opts o;
	double start_s;			/**< monotonic */
	double end_t_s;
	enum mpa_soak_end end;
	char error[8192];		/**< why it ended early, or failed */
	char dut_prefix[64], gen_prefix[64];
	char sock[4096];		/**< the DUT-generator link */
	char report_path[4096];		/**< the DUT's final JSON report */
	int have_report;
	char mem[128];			/**< EAL memory arguments used */
	struct mpa_soak_proc dut, gen;
	struct mpa_soak_sample *samples;
	int nb_samples, cap_samples;
	struct mpa_soak_holder holders[MPA_SOAK_MAX_HOLDERS];
	int nb_holders;
	struct mpa_soak_stack stacks[MPA_SOAK_MAX_STACKS];
	int nb_stacks;
	struct mpa_soak_verdict v;
};

/* soakrig.c */

/**
 * Build the command lines of the DUT and the generator of @p s from its
 * options, and start them (the DUT first, then the generator once the
 * DUT answers on telemetry). Nothing is started with --attach except a
 * --generator.
 *
 * @return 0, or -1 with s->error set (whatever started is stopped).
 */
int mpa_soak_rig_start(struct mpa_soak *s);

/**
 * Reap whichever process exited.
 *
 * @return 0 both run, or the process that exited (s->gen or s->dut).
 */
struct mpa_soak_proc *mpa_soak_rig_poll(struct mpa_soak *s);

/** Stop the generator, then the DUT; remove what they left behind. */
void mpa_soak_rig_stop(struct mpa_soak *s);

/** "exited with status N" or "killed by SIGNAME" of an exited @p p. */
void mpa_soak_rig_status(const struct mpa_soak_proc *p, char *buf,
			 size_t len);

/* soakverdict.c */

/** Fill s->v from the samples, the holders and the stacks of @p s. */
void mpa_soak_verdict(struct mpa_soak *s);

/* soakout.c */

/**
 * Mean packet rate, Mpps, of the generator (@p gen) or the DUT over the
 * samples after the warm-up that have one; NAN without any. soak.json
 * and report.html both show this one.
 */
double mpa_soak_mean_mpps(const struct mpa_soak *s, int gen);

/** The soak's result, as soak.json and --json print it. */
json_t *mpa_soak_result(const struct mpa_soak *s);

/**
 * Write samples.csv, samples.json, junit.xml and soak.json into the
 * output directory.
 *
 * @return 0, or -1 after saying which file failed.
 */
int mpa_soak_write(const struct mpa_soak *s);

/* soakhtml.c */

/** Write report.html; 0 or -1 after saying why. */
int mpa_soak_write_html(const struct mpa_soak *s, const char *path);

/** The colour of pool @p i's line in report.html ("#rrggbb"). */
const char *mpa_soak_colour(int i);

/** Write @p text to @p f escaped for HTML or XML text and attributes. */
void mpa_soak_escape(FILE *f, const char *text);

#endif /* MPA_SOAK_H */
