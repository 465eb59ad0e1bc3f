/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * DPDK telemetry client of the mpaudit CLI (tele.h).
 *
 * The protocol (DPDK 22.11 lib/telemetry, socket dpdk_telemetry.v2): a
 * SOCK_SEQPACKET Unix socket that sends a JSON greeting on connect
 * ({"version", "pid", "max_output_len"}), then answers each message, one
 * command with its parameters after commas, with one message holding
 * {"<command>": value}. An unknown command, or a handler that failed,
 * answers null. A process serves a bounded number of clients and closes
 * the ones beyond.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "tele.h"

/* Where EAL puts its runtime directory, by who runs it (eal_filesystem.h). */
#define RUN_DIR_ROOT "/var/run/dpdk"
#define RUN_DIR_TMP "/tmp/dpdk"
/* Room beyond max_output_len, so that an oversized reply is seen as such
 * (MSG_TRUNC) rather than read as a shorter one. */
#define RECV_SLACK 65536
/* A reply longer than this is no DPDK 22.11 reply. */
#define MAX_OUTPUT_LEN_MAX (1u << 24)
/* Times a list that changed while its pages were read is read again. */
#define PAGE_RETRIES 8
#define MPAUDIT_PREFIX "/mpaudit/"

static void
seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- discovery --------------------------------------------------------- */

/* The runtime bases in the order EAL would pick them, each once. */
static int
run_bases(char bases[][PATH_MAX], int max)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char real[3][PATH_MAX];
	const char *cand[3];
	int n = 0, nc = 0;

	if (max > 3)
		max = 3;

	cand[nc++] = RUN_DIR_ROOT;
	if (xdg != NULL && xdg[0] != '\0')
		cand[nc++] = xdg;
	cand[nc++] = RUN_DIR_TMP;
	for (int i = 0; i < nc && n < max; i++) {
		char path[PATH_MAX];
		int dup = 0;

		if (cand[i] == xdg) {
			if (snprintf(path, sizeof(path), "%s/dpdk", xdg) >=
			    (int)sizeof(path))
				continue;
		} else {
			snprintf(path, sizeof(path), "%s", cand[i]);
		}
		/* /var/run is usually /run, and XDG_RUNTIME_DIR may be
		 * anything: compare resolved paths, show the usual one. */
		if (realpath(path, real[n]) == NULL)
			continue;
		for (int j = 0; j < n; j++)
			dup |= strcmp(real[j], real[n]) == 0;
		if (!dup)
			snprintf(bases[n++], PATH_MAX, "%s", path);
	}
	return n;
}

static int
is_socket(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* A telemetry socket's name: the v2 socket, or one per process of a
 * multi-process application ("dpdk_telemetry.v2:N", newer EALs). */
static int
is_tele_name(const char *name)
{
	size_t n = strlen(MPA_TELE_SOCKET);

	return strncmp(name, MPA_TELE_SOCKET, n) == 0 &&
		(name[n] == '\0' || name[n] == ':');
}

struct found {
	char path[PATH_MAX];
	char prefix[NAME_MAX + 1];
};

static int
found_cmp(const void *a, const void *b)
{
	return strcmp(((const struct found *)a)->path,
		      ((const struct found *)b)->path);
}

/* Append the telemetry sockets of runtime directory @dir to @v. */
static int
collect_dir(const char *base, const char *prefix, struct found **v,
	    size_t *n, size_t *cap)
{
	char dir[PATH_MAX];
	struct dirent *e;
	DIR *d;

	if (snprintf(dir, sizeof(dir), "%s/%s", base, prefix) >=
	    (int)sizeof(dir))
		return 0;
	d = opendir(dir);
	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		struct found *f;

		if (!is_tele_name(e->d_name))
			continue;
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 16;
			struct found *nv = realloc(*v, nc * sizeof(*nv));

			if (nv == NULL) {
				closedir(d);
				return -ENOMEM;
			}
			*v = nv;
			*cap = nc;
		}
		f = &(*v)[*n];
		if (snprintf(f->path, sizeof(f->path), "%s/%s", dir,
			     e->d_name) >= (int)sizeof(f->path) ||
		    !is_socket(f->path))
			continue;
		snprintf(f->prefix, sizeof(f->prefix), "%s", prefix);
		(*n)++;
	}
	closedir(d);
	return 0;
}

int
mpa_tele_foreach(int (*cb)(const char *path, const char *prefix, void *arg),
		 void *arg)
{
	char bases[3][PATH_MAX];
	struct found *v = NULL;
	size_t n = 0, cap = 0;
	int nb, ret = 0;

	nb = run_bases(bases, 3);
	for (int i = 0; i < nb && ret == 0; i++) {
		struct dirent *e;
		DIR *d = opendir(bases[i]);

		if (d == NULL)
			continue;
		while (ret == 0 && (e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			ret = collect_dir(bases[i], e->d_name, &v, &n, &cap);
		}
		closedir(d);
	}
	if (ret == 0) {
		qsort(v, n, sizeof(*v), found_cmp);
		for (size_t i = 0; i < n && ret == 0; i++)
			ret = cb(v[i].path, v[i].prefix, arg);
	}
	free(v);
	return ret;
}

int
mpa_tele_find_prefix(const char *prefix, char *path, size_t len, char *err,
		     size_t errlen)
{
	char bases[3][PATH_MAX];
	char looked[3 * PATH_MAX] = "";
	int nb;

	/* A prefix is one directory name: never let it walk elsewhere. */
	if (prefix[0] == '\0' || strchr(prefix, '/') != NULL ||
	    strcmp(prefix, ".") == 0 || strcmp(prefix, "..") == 0) {
		seterr(err, errlen, "bad file prefix '%s'", prefix);
		return -1;
	}
	nb = run_bases(bases, 3);
	for (int i = 0; i < nb; i++) {
		size_t l = strlen(looked);

		if (snprintf(path, len, "%s/%s/%s", bases[i], prefix,
			     MPA_TELE_SOCKET) < (int)len && is_socket(path))
			return 0;
		/* A clipped list of places is still a useful message. */
		if (snprintf(looked + l, sizeof(looked) - l, "%s%s/%s",
			     l ? ", " : "", bases[i], prefix) < 0)
			break;
	}
	seterr(err, errlen,
	       "no DPDK telemetry socket for file prefix '%s' (looked in %s)",
	       prefix, nb ? looked : "no runtime directory exists");
	return -1;
}

struct pid_find {
	long pid;
	char *path;
	size_t len;
};

static int
pid_match(const char *path, const char *prefix, void *arg)
{
	struct pid_find *pf = arg;
	struct mpa_tele *t;
	char err[MPA_TELE_ERR_MAX];
	int hit;

	t = mpa_tele_open(path, NULL, err, sizeof(err));
	if (t == NULL)
		return 0;
	hit = t->pid == pf->pid;
	mpa_tele_close(t);
	if (hit)
		snprintf(pf->path, pf->len, "%s", path);
	return hit;
}

int
mpa_tele_find_pid(long pid, char *path, size_t len, char *err, size_t errlen)
{
	struct pid_find pf = { .pid = pid, .path = path, .len = len };
	char comm[64];
	char proc[64];

	if (mpa_tele_foreach(pid_match, &pf) > 0)
		return 0;
	snprintf(proc, sizeof(proc), "/proc/%ld", pid);
	if (access(proc, F_OK) != 0) {
		seterr(err, errlen, "no process %ld", pid);
		return -1;
	}
	mpa_tele_comm(pid, comm, sizeof(comm));
	seterr(err, errlen, "process %ld (%s) has no DPDK telemetry socket "
	       "that answers", pid, comm);
	return -1;
}

void
mpa_tele_comm(long pid, char *buf, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(buf, len, "-");
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(buf, (int)len, f) == NULL)
		snprintf(buf, len, "-");
	buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}

/* ---- connection -------------------------------------------------------- */

void
mpa_tele_close(struct mpa_tele *t)
{
	if (t == NULL)
		return;
	if (t->fd >= 0)
		close(t->fd);
	free(t->buf);
	free(t);
}

static int
set_timeouts(int fd, int ms)
{
	struct timeval tv = {
		.tv_sec = ms / 1000,
		.tv_usec = (ms % 1000) * 1000,
	};

	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0)
		return -1;
	return 0;
}

int
mpa_tele_set_timeout(struct mpa_tele *t, int ms)
{
	if (set_timeouts(t->fd, ms) != 0)
		return -1;
	t->timeout_ms = ms;
	return 0;
}

/* Receive one message into t->buf, NUL-terminated. Returns its length or
 * -1 with t->err set. */
static ssize_t
recv_msg(struct mpa_tele *t, const char *what)
{
	struct iovec iov = { .iov_base = t->buf, .iov_len = t->buf_len - 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;

	do {
		n = recvmsg(t->fd, &mh, 0);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			seterr(t->err, sizeof(t->err), "%s: no reply within "
			       "%d ms from %s", what, t->timeout_ms,
			       t->path);
		else
			seterr(t->err, sizeof(t->err), "%s: %s: %s", what,
			       t->path, strerror(errno));
		return -1;
	}
	if (n == 0) {
		seterr(t->err, sizeof(t->err), "%s: %s closed the connection "
		       "(the process ended, or serves no more clients)", what,
		       t->path);
		return -1;
	}
	if (mh.msg_flags & MSG_TRUNC) {
		seterr(t->err, sizeof(t->err), "%s: reply longer than %zu "
		       "bytes", what, t->buf_len - 1);
		return -1;
	}
	t->buf[n] = '\0';
	return n;
}

static json_t *
parse_msg(struct mpa_tele *t, const char *what)
{
	json_error_t je;
	json_t *j;

	j = json_loads(t->buf, JSON_REJECT_DUPLICATES, &je);
	if (j == NULL)
		seterr(t->err, sizeof(t->err), "%s: reply is not JSON (%s): "
		       "%.80s", what, je.text, t->buf);
	return j;
}

/* Read the greeting: the process id and the longest reply. */
static int
read_greeting(struct mpa_tele *t)
{
	json_t *g, *pid, *mol;
	json_int_t len;

	if (recv_msg(t, "greeting") < 0)
		return -1;
	g = parse_msg(t, "greeting");
	if (g == NULL)
		return -1;
	pid = json_object_get(g, "pid");
	mol = json_object_get(g, "max_output_len");
	len = json_is_integer(mol) ? json_integer_value(mol) : 0;
	if (len <= 0 || len > MAX_OUTPUT_LEN_MAX) {
		seterr(t->err, sizeof(t->err), "%s: greeting without a valid "
		       "max_output_len: not a DPDK telemetry v2 socket?",
		       t->path);
		json_decref(g);
		return -1;
	}
	t->pid = json_is_integer(pid) ? (long)json_integer_value(pid) : -1;
	t->max_len = (size_t)len;
	json_decref(g);
	return 0;
}

struct mpa_tele *
mpa_tele_open(const char *path, enum mpa_tele_state *state, char *err,
	      size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	enum mpa_tele_state st = MPA_TELE_BROKEN;
	struct mpa_tele *t;

	t = calloc(1, sizeof(*t));
	if (t == NULL) {
		seterr(err, errlen, "out of memory");
		goto err;
	}
	t->fd = -1;
	if (snprintf(t->path, sizeof(t->path), "%s", path) >=
	    (int)sizeof(t->path)) {
		seterr(err, errlen, "socket path too long: %s", path);
		goto err;
	}
	memcpy(sa.sun_path, t->path, sizeof(t->path));
	t->buf_len = RECV_SLACK;
	t->buf = malloc(t->buf_len);
	t->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	t->timeout_ms = MPA_TELE_TIMEOUT_MS;
	if (t->buf == NULL || t->fd < 0 ||
	    set_timeouts(t->fd, t->timeout_ms) != 0) {
		seterr(err, errlen, "socket: %s", strerror(errno));
		goto err;
	}
	if (connect(t->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		if (errno == ECONNREFUSED) {
			st = MPA_TELE_STALE;
			seterr(err, errlen, "stale socket %s: no process "
			       "listens on it (connection refused)", path);
		} else {
			seterr(err, errlen, "connect %s: %s", path,
			       strerror(errno));
		}
		goto err;
	}
	if (read_greeting(t) != 0) {
		seterr(err, errlen, "%s", t->err);
		goto err;
	}
	/* Room for the largest reply the process may send, and more. */
	if (t->max_len + RECV_SLACK > t->buf_len) {
		char *nb = realloc(t->buf, t->max_len + RECV_SLACK);

		if (nb == NULL) {
			seterr(err, errlen, "out of memory");
			goto err;
		}
		t->buf = nb;
		t->buf_len = t->max_len + RECV_SLACK;
	}
	if (state != NULL)
		*state = MPA_TELE_LIVE;
	return t;
err:
	if (state != NULL)
		*state = st;
	mpa_tele_close(t);
	return NULL;
}

/* ---- requests ---------------------------------------------------------- */

/* The command's name: what precedes its first comma. */
static size_t
cmd_name_len(const char *cmd)
{
	return strcspn(cmd, ",");
}

int
mpa_tele_ask(struct mpa_tele *t, const char *cmd, json_t **out)
{
	size_t klen = cmd_name_len(cmd);
	const char *key;
	json_t *j, *v;
	ssize_t n;

	*out = NULL;
	do {
		n = send(t->fd, cmd, strlen(cmd), MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0) {
		seterr(t->err, sizeof(t->err), "%s: send to %s: %s", cmd,
		       t->path, strerror(errno));
		return -1;
	}
	if (recv_msg(t, cmd) < 0)
		return -1;
	j = parse_msg(t, cmd);
	if (j == NULL)
		return -1;
	if (!json_is_object(j) || json_object_size(j) != 1 ||
	    (key = json_object_iter_key(json_object_iter(j))) == NULL ||
	    strlen(key) != klen || strncmp(key, cmd, klen) != 0) {
		seterr(t->err, sizeof(t->err), "%s: reply not keyed by the "
		       "command: %.80s", cmd, t->buf);
		json_decref(j);
		return -1;
	}
	v = json_object_iter_value(json_object_iter(j));
	*out = json_incref(v);
	json_decref(j);
	return 0;
}

int
mpa_tele_audited(struct mpa_tele *t)
{
	json_t *list, *e;
	size_t i;
	int yes = 0;

	if (mpa_tele_ask(t, "/", &list) != 0)
		return -1;
	if (!json_is_array(list)) {
		seterr(t->err, sizeof(t->err), "/: the command list is not "
		       "an array");
		json_decref(list);
		return -1;
	}
	json_array_foreach(list, i, e) {
		if (json_is_string(e) &&
		    strncmp(json_string_value(e), MPAUDIT_PREFIX,
			    strlen(MPAUDIT_PREFIX)) == 0)
			yes = 1;
	}
	json_decref(list);
	return yes;
}

/* A null reply: say whether the process is audited at all, and name the
 * command it lacks. */
static void
explain_null(struct mpa_tele *t, const char *cmd)
{
	size_t klen = cmd_name_len(cmd);
	const char *name = cmd;
	int a = mpa_tele_audited(t);

	if (a < 0)
		return;
	if (strncmp(cmd, MPAUDIT_PREFIX, strlen(MPAUDIT_PREFIX)) == 0) {
		name += strlen(MPAUDIT_PREFIX);
		klen -= strlen(MPAUDIT_PREFIX);
	}
	if (a == 0) {
		char comm[64];

		mpa_tele_comm(t->pid, comm, sizeof(comm));
		seterr(t->err, sizeof(t->err), "process %ld (%s) is not "
		       "audited: it has no /mpaudit/ telemetry commands",
		       t->pid, comm);
	} else {
		seterr(t->err, sizeof(t->err), "this mpaudit does not "
		       "support %.*s", (int)klen, name);
	}
}

/* Ask @cmd; an error reply is returned as it is, in @out. */
static int
get_raw(struct mpa_tele *t, const char *cmd, json_t **out)
{
	if (mpa_tele_ask(t, cmd, out) != 0)
		return -1;
	if (json_is_null(*out)) {
		json_decref(*out);
		*out = NULL;
		explain_null(t, cmd);
		return -1;
	}
	if (!json_is_object(*out)) {
		seterr(t->err, sizeof(t->err), "%s: reply is not an object",
		       cmd);
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int
is_error(json_t *v)
{
	return json_object_get(v, "error") != NULL;
}

static void
set_reply_error(struct mpa_tele *t, const char *cmd, json_t *v)
{
	const char *e = json_string_value(json_object_get(v, "error"));
	const char *code = json_string_value(json_object_get(v, "code"));

	seterr(t->err, sizeof(t->err), "%.*s: %s%s%s%s", (int)cmd_name_len(cmd),
	       cmd, e ? e : "error reply without text", code ? " (" : "",
	       code ? code : "", code ? ")" : "");
	snprintf(t->code, sizeof(t->code), "%s", code ? code : "");
}

int
mpa_tele_get(struct mpa_tele *t, const char *cmd, json_t **out)
{
	t->code[0] = '\0';
	if (get_raw(t, cmd, out) != 0)
		return -1;
	if (is_error(*out)) {
		set_reply_error(t, cmd, *out);
		json_decref(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* ---- pages ------------------------------------------------------------- */

struct page_hdr {
	json_int_t scan;	/* -1: the list has no scan number */
	json_int_t total, page, pages, per_page;
};

static int
int_field(json_t *v, const char *k, json_int_t min, json_int_t *out)
{
	json_t *f = json_object_get(v, k);

	if (!json_is_integer(f) || json_integer_value(f) < min)
		return -1;
	*out = json_integer_value(f);
	return 0;
}

static int
page_hdr(struct mpa_tele *t, const char *cmd, json_t *v, const char *list_key,
	 struct page_hdr *h)
{
	h->scan = -1;
	if (json_object_get(v, "scan") != NULL &&
	    int_field(v, "scan", 0, &h->scan) != 0)
		goto bad;
	if (int_field(v, "total", 0, &h->total) != 0 ||
	    int_field(v, "page", 0, &h->page) != 0 ||
	    int_field(v, "pages", 1, &h->pages) != 0 ||
	    int_field(v, "per_page", 1, &h->per_page) != 0 ||
	    !json_is_object(json_object_get(v, list_key)))
		goto bad;
	return 0;
bad:
	seterr(t->err, sizeof(t->err), "%s: reply lacks its page fields "
	       "(scan, total, page, pages, per_page, %s): %.80s", cmd,
	       list_key, t->buf);
	return -1;
}

/* Append the entries of one page, ranks first..end-1, to @arr. */
static int
take_entries(struct mpa_tele *t, const char *cmd, json_t *list,
	     json_int_t first, json_int_t end, json_t *arr)
{
	char key[24];

	if ((json_int_t)json_object_size(list) != end - first)
		goto bad;
	for (json_int_t r = first; r < end; r++) {
		json_t *e;

		snprintf(key, sizeof(key), "%lld", (long long)r);
		e = json_object_get(list, key);
		if (!json_is_object(e))
			goto bad;
		json_array_append(arr, e);
	}
	return 0;
bad:
	seterr(t->err, sizeof(t->err), "%s: page does not hold the entries "
	       "ranked %lld to %lld", cmd, (long long)first,
	       (long long)end - 1);
	return -1;
}

static json_int_t
min_ll(json_int_t a, json_int_t b)
{
	return a < b ? a : b;
}

/*
 * One pass over every page. Returns 0 (joined in @out), 1 (the list
 * changed in between: read it again) or -1 (error).
 */
static int
pages_once(struct mpa_tele *t, const char *cmd, const char *list_key,
	   json_t **out)
{
	char pc[1024];
	struct page_hdr h0 = { 0 }, h;
	json_t *v0 = NULL, *v = NULL, *arr;
	int ret = -1;

	arr = json_array();
	for (json_int_t pg = 0; arr != NULL; pg++) {
		if (snprintf(pc, sizeof(pc), "%s,%lld", cmd, (long long)pg) >=
		    (int)sizeof(pc)) {
			seterr(t->err, sizeof(t->err), "%s: too long", cmd);
			break;
		}
		if (get_raw(t, pc, &v) != 0)
			break;
		if (is_error(v)) {
			const char *code = json_string_value(
				json_object_get(v, "code"));

			/* The list shrank below this page since page 0. */
			if (pg > 0 && code != NULL && strcmp(code, "ERANGE") == 0)
				ret = 1;
			else
				set_reply_error(t, pc, v);
			break;
		}
		if (page_hdr(t, pc, v, list_key, &h) != 0)
			break;
		if (pg == 0) {
			h0 = h;
			v0 = json_incref(v);
		} else if (h.scan != h0.scan || h.total != h0.total ||
			   h.pages != h0.pages || h.per_page != h0.per_page) {
			ret = 1;
			break;
		}
		if (h.page != pg) {
			seterr(t->err, sizeof(t->err), "%s: reply is page %lld",
			       pc, (long long)h.page);
			break;
		}
		if (take_entries(t, pc, json_object_get(v, list_key),
				 pg * h.per_page, min_ll(h.total,
				 (pg + 1) * h.per_page), arr) != 0)
			break;
		json_decref(v);
		v = NULL;
		if (pg + 1 >= h0.pages) {
			ret = 0;
			break;
		}
	}
	if (arr == NULL)
		seterr(t->err, sizeof(t->err), "out of memory");
	if (ret == 0) {
		json_object_del(v0, "page");
		json_object_del(v0, "pages");
		json_object_del(v0, "per_page");
		json_object_set(v0, list_key, arr);
		*out = json_incref(v0);
	}
	json_decref(v);
	json_decref(v0);
	json_decref(arr);
	return ret;
}

int
mpa_tele_pages(struct mpa_tele *t, const char *cmd, const char *list_key,
	       json_t **out)
{
	*out = NULL;
	for (int i = 0; i < PAGE_RETRIES; i++) {
		int r = pages_once(t, cmd, list_key, out);

		if (r <= 0)
			return r;
	}
	seterr(t->err, sizeof(t->err), "%s: the list changed while its pages "
	       "were read, %d times in a row", cmd, PAGE_RETRIES);
	return -1;
}
