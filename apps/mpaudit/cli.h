/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/**
 * @file
 * What the commands of the mpaudit CLI share: the parsed command line,
 * the connection to the audited process, the exit statuses
 * (docs/cli.md, PRODUCT.md) and the command entry points.
 */

#ifndef MPA_CLI_H
#define MPA_CLI_H

#include <signal.h>

#include <jansson.h>

#include "soak.h"
#include "tele.h"

/** Exit statuses, as every mpaudit program uses them. */
enum {
	MPA_EXIT_CLEAN = 0,
	MPA_EXIT_FAIL = 1,	/**< the tool itself failed */
	MPA_EXIT_USAGE = 2,
	MPA_EXIT_FOUND = 3,	/**< stuck objects, leaks or free errors */
};

/** Default and bounds of watch/top --interval, in seconds. */
#define MPA_CLI_INTERVAL_S 1.0
#define MPA_CLI_INTERVAL_MIN_S 0.05
#define MPA_CLI_INTERVAL_MAX_S 3600.0

/** The command line, and the connection made from it. */
struct mpa_cli {
	/* target: at most one of these */
	const char *prefix;
	long pid;		/**< 0: none */
	const char *socket;
	int json;
	/* positional arguments after the command */
	int nargs;
	char **args;
	/* command options */
	double interval;
	long count;		/**< watch --count, 0: forever */
	long stuck_ms;		/**< config --stuck-ms, -1: unchanged */
	long scan_ms;		/**< config --scan-ms, -1: unchanged */
	const char *listen;	/**< serve --listen */
	int history;		/**< stuck --history */
	struct mpa_soak_opts soak;	/**< soak's options */
	struct mpa_tele *t;
	char path[108];		/**< the socket connected to */
};

/** Print "mpaudit: MESSAGE" on stderr. */
void mpa_cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * Connect to the target of @p c (file prefix, pid or socket).
 *
 * @return 0, or MPA_EXIT_FAIL after saying why.
 */
int mpa_cli_connect(struct mpa_cli *c);

/** Print the connection's error message; return MPA_EXIT_FAIL. */
int mpa_cli_fail(struct mpa_cli *c);

/**
 * The verdict of a /mpaudit/summary reply: MPA_EXIT_FOUND or
 * MPA_EXIT_CLEAN, or MPA_EXIT_FAIL (said) if it has no exit_code.
 */
int mpa_cli_verdict(json_t *summary);

/**
 * Ask /mpaudit/summary and return its verdict, or MPA_EXIT_FAIL (said).
 */
int mpa_cli_ask_verdict(struct mpa_cli *c);

/** The /mpaudit/summary fields every command relies on (mpa_cli_check()). */
#define MPA_CLI_SUMMARY_FIELDS \
	"mode:s scans:i stuck:i groups:i errors:i exit_code:i"

/**
 * Check that object @p o has the fields of @p spec ("name:t ...", t one
 * of i integer, n number, s string, a array, o object).
 *
 * @return 0, or -1 after naming the first missing field and @p what.
 */
int mpa_cli_check(json_t *o, const char *what, const char *spec);

/** Integer field @p k of @p o, or @p dflt when absent or not an integer. */
json_int_t mpa_cli_int(json_t *o, const char *k, json_int_t dflt);

/** Set by SIGINT and SIGTERM once mpa_cli_catch_stop() ran. */
extern volatile sig_atomic_t mpa_cli_stop;

/*
 * Catch SIGINT and SIGTERM into mpa_cli_stop, without SA_RESTART, so a
 * sleep of watch, top or serve ends at the signal and the terminal or
 * the socket is put back in order before exit.
 */
void mpa_cli_catch_stop(void);

/** Monotonic clock, seconds. */
double mpa_cli_now_s(void);

/** Sleep until @p t (mpa_cli_now_s() seconds), or until a stop signal
 * sets mpa_cli_stop. */
void mpa_cli_sleep_until(double t);

/* Commands: each returns the process's exit status. */
int mpa_cmd_list(struct mpa_cli *c);
int mpa_cmd_status(struct mpa_cli *c);
int mpa_cmd_pools(struct mpa_cli *c);
int mpa_cmd_stuck(struct mpa_cli *c);
int mpa_cmd_sites(struct mpa_cli *c);
int mpa_cmd_heap(struct mpa_cli *c);
int mpa_cmd_errors(struct mpa_cli *c);
int mpa_cmd_config(struct mpa_cli *c);
int mpa_cmd_snapshot(struct mpa_cli *c);
int mpa_cmd_diff(struct mpa_cli *c);
int mpa_cmd_dump(struct mpa_cli *c);
int mpa_cmd_pcap(struct mpa_cli *c);
int mpa_cmd_metrics(struct mpa_cli *c);
int mpa_cmd_serve(struct mpa_cli *c);
int mpa_cmd_watch(struct mpa_cli *c);
int mpa_cmd_top(struct mpa_cli *c);
int mpa_cmd_soak(struct mpa_cli *c);

#endif /* MPA_CLI_H */
