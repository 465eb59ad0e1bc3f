/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/**
 * @file
 * The mpaudit CLI's DPDK telemetry client: finding the telemetry sockets
 * of the processes on this machine, connecting to one, asking one command
 * and reading its one JSON reply, and joining the pages of a paginated
 * /mpaudit/ list (docs/telemetry.md).
 *
 * Every failing function returns a negative value and leaves a message
 * naming what failed in the error buffer it was given (struct mpa_tele's
 * err, or the caller's); nothing here prints. Single-threaded.
 */

#ifndef MPA_CLI_TELE_H
#define MPA_CLI_TELE_H

#include <stddef.h>
#include <sys/types.h>

#include <jansson.h>

/** DPDK's telemetry v2 socket, in the EAL runtime directory. */
#define MPA_TELE_SOCKET "dpdk_telemetry.v2"
/** EAL's default --file-prefix. */
#define MPA_TELE_DEFAULT_PREFIX "rte"
/** Longest message an error buffer holds. */
#define MPA_TELE_ERR_MAX 512
/** How long one reply may take before the process is given up. */
#define MPA_TELE_TIMEOUT_MS 10000

/** One connection to a DPDK telemetry socket. */
struct mpa_tele {
	int fd;
	char path[108];		/**< socket path (sun_path) */
	long pid;		/**< from the greeting, -1 if absent */
	size_t max_len;		/**< the greeting's max_output_len */
	char *buf;		/**< receive buffer, larger than max_len */
	int timeout_ms;		/**< per reply (MPA_TELE_TIMEOUT_MS) */
	size_t buf_len;
	char err[MPA_TELE_ERR_MAX];
	/** "code" of the last error reply (e.g. "EINVAL"); "" after any
	 * other outcome. Lets a command tell a refused value from a failure. */
	char code[16];
};

/** Outcome of trying one socket (list, --pid). */
enum mpa_tele_state {
	MPA_TELE_LIVE,		/**< connected, greeting read */
	MPA_TELE_STALE,		/**< nobody listens: the process is gone */
	MPA_TELE_BROKEN,	/**< any other failure (permission, bad greeting) */
};

/**
 * Call @p cb for each telemetry socket in every runtime directory
 * (/var/run/dpdk, $XDG_RUNTIME_DIR/dpdk, /tmp/dpdk), in path order, each
 * path once.
 *
 * @param cb
 *   Called with the socket's path, its file prefix and @p arg; a nonzero
 *   return stops the walk and is returned.
 * @return
 *   0 after the last socket, or @p cb's nonzero value.
 */
int mpa_tele_foreach(int (*cb)(const char *path, const char *prefix,
			       void *arg), void *arg);

/**
 * Find the socket of file prefix @p prefix.
 *
 * @return
 *   0 and the path in @p path, or -1 (none in any runtime directory;
 *   @p err says where it looked).
 */
int mpa_tele_find_prefix(const char *prefix, char *path, size_t len,
			 char *err, size_t errlen);

/**
 * Find the socket whose greeting carries process id @p pid.
 *
 * @return
 *   0 and the path in @p path, or -1 with @p err set.
 */
int mpa_tele_find_pid(long pid, char *path, size_t len, char *err,
		      size_t errlen);

/**
 * Connect to @p path and read its greeting.
 *
 * @param state
 *   If not NULL, set to how the attempt went.
 * @return
 *   The connection, or NULL with @p err set.
 */
struct mpa_tele *mpa_tele_open(const char *path, enum mpa_tele_state *state,
			       char *err, size_t errlen);

/** Wait at most @p ms for each later reply on @p t. @return 0, -1. */
int mpa_tele_set_timeout(struct mpa_tele *t, int ms);

/** Close @p t; NULL is accepted. */
void mpa_tele_close(struct mpa_tele *t);

/**
 * Send @p cmd and read its reply, the value under the command's name.
 *
 * @param out
 *   Set to a new reference to the reply's value; JSON null when the
 *   process does not know the command (or its handler failed).
 * @return
 *   0, or -1 (socket error, closed, timeout, not JSON, not keyed by the
 *   command) with t->err set.
 */
int mpa_tele_ask(struct mpa_tele *t, const char *cmd, json_t **out);

/**
 * As mpa_tele_ask(), for an /mpaudit/ command whose reply must be an
 * object: a null reply becomes "this mpaudit does not support NAME" (or
 * "not audited" when "/" lists no /mpaudit/ command at all), an error
 * reply becomes its "error" text.
 *
 * @return
 *   0 with @p out set, or -1 with t->err set.
 */
int mpa_tele_get(struct mpa_tele *t, const char *cmd, json_t **out);

/**
 * Fetch every page of a paginated command and join them: the reply of
 * page 0 without its page, pages and per_page fields, @p list_key
 * holding an array of every entry in rank order. Asks "@p cmd,PAGE" for
 * each page; if the list changed between two pages ("scan" or "total"
 * differ), starts over, a bounded number of times.
 *
 * @return
 *   0 with @p out set (a new reference), or -1 with t->err set.
 */
int mpa_tele_pages(struct mpa_tele *t, const char *cmd, const char *list_key,
		   json_t **out);

/**
 * Whether the process answers /mpaudit/ commands: 1 yes, 0 no, -1 the
 * question failed (t->err set).
 */
int mpa_tele_audited(struct mpa_tele *t);

/** The program name of process @p pid (/proc/PID/comm), or "-". */
void mpa_tele_comm(long pid, char *buf, size_t len);

#endif /* MPA_CLI_TELE_H */
