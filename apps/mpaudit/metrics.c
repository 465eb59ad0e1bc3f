/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * mpaudit metrics and mpaudit serve: the audited processes of this
 * machine in the Prometheus text exposition format (version 0.0.4),
 * labelled by file prefix and pid (docs/prometheus.md).
 *
 * The format wants every sample of a metric family together, under one
 * HELP and TYPE: so all processes are asked first, then each family is
 * printed across them. A process that does not answer is left out, and
 * mpaudit_scrape_errors counts it, so a dashboard sees it go rather than
 * a scrape that fails as a whole.
 */

#include <errno.h>
#include <microhttpd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tele.h"

/* The most processes one scrape reports. */
#define PROCS_MAX 256

struct proc {
	char prefix[128];
	long pid;
	json_t *summary;
	json_t *pools;		/* the joined /mpaudit/pools reply */
	json_t *stuck;		/* the joined /mpaudit/stuck reply */
};

struct scrape {
	struct proc v[PROCS_MAX];
	int n;
	int errors;		/* sockets that did not answer as audited */
	const char *only;	/* one socket path, or NULL for all */
};

static void
scrape_free(struct scrape *s)
{
	for (int i = 0; i < s->n; i++) {
		json_decref(s->v[i].summary);
		json_decref(s->v[i].pools);
		json_decref(s->v[i].stuck);
	}
	s->n = 0;
}

/* Ask one process; processes not audited are no error, just not listed. */
static int
scrape_one(const char *path, const char *prefix, void *arg)
{
	struct scrape *s = arg;
	char err[MPA_TELE_ERR_MAX];
	enum mpa_tele_state st;
	struct mpa_tele *t;
	struct proc *p;
	int audited;

	if (s->n == PROCS_MAX)
		return 0;
	t = mpa_tele_open(path, &st, err, sizeof(err));
	if (t == NULL) {
		/* A stale socket is a process gone, not a failed scrape. */
		s->errors += st != MPA_TELE_STALE;
		return 0;
	}
	audited = mpa_tele_audited(t);
	if (audited <= 0) {
		s->errors += audited < 0;
		mpa_tele_close(t);
		return 0;
	}
	p = &s->v[s->n];
	memset(p, 0, sizeof(*p));
	snprintf(p->prefix, sizeof(p->prefix), "%s", prefix);
	p->pid = t->pid;
	if (mpa_tele_get(t, "/mpaudit/summary", &p->summary) != 0 ||
	    mpa_cli_check(p->summary, "/mpaudit/summary",
			  MPA_CLI_SUMMARY_FIELDS) != 0 ||
	    mpa_tele_pages(t, "/mpaudit/pools", "pools", &p->pools) != 0 ||
	    mpa_tele_pages(t, "/mpaudit/stuck", "groups", &p->stuck) != 0) {
		json_decref(p->summary);
		json_decref(p->pools);
		json_decref(p->stuck);
		s->errors++;
	} else {
		s->n++;
	}
	mpa_tele_close(t);
	return 0;
}

static void
scrape(struct scrape *s)
{
	s->n = 0;
	s->errors = 0;
	if (s->only != NULL) {
		/* The file prefix is the name of the socket's directory. */
		char dir[sizeof(((struct proc *)0)->prefix)];
		const char *slash = strrchr(s->only, '/'), *start = slash;

		while (start != NULL && start > s->only && start[-1] != '/')
			start--;
		if (slash != NULL && start != NULL && slash > start &&
		    (size_t)(slash - start) < sizeof(dir)) {
			memcpy(dir, start, (size_t)(slash - start));
			dir[slash - start] = '\0';
		} else {
			snprintf(dir, sizeof(dir), "-");
		}
		scrape_one(s->only, dir, s);
	}
	else
		mpa_tele_foreach(scrape_one, s);
}

/* A label value: backslash, double quote and newline escaped. */
static void
put_label(FILE *f, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		if (*v == '\n')
			fputs("\\n", f);
		else
			fputc(*v, f);
	}
}

static void
family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
labels(FILE *f, const struct proc *p, const char *k, const char *v)
{
	fputs("{prefix=\"", f);
	put_label(f, p->prefix);
	fprintf(f, "\",pid=\"%ld\"", p->pid);
	if (k != NULL) {
		fprintf(f, ",%s=\"", k);
		put_label(f, v);
		fputc('"', f);
	}
	fputc('}', f);
}

/* Per process: a summary field. */
static void
proc_metric(FILE *f, const struct scrape *s, const char *name,
	    const char *type, const char *help, const char *key)
{
	family(f, name, type, help);
	for (int i = 0; i < s->n; i++) {
		fputs(name, f);
		labels(f, &s->v[i], NULL, NULL);
		fprintf(f, " %lld\n", (long long)mpa_cli_int(s->v[i].summary, key, 0));
	}
}

/*
 * Per process: the scanner's cost, nanoseconds in the summary's
 * "scanner", given in seconds as Prometheus wants; a process whose
 * auditor predates the field is left out.
 */
static void
scan_metric(FILE *f, const struct scrape *s, const char *name,
	    const char *type, const char *help, const char *key)
{
	family(f, name, type, help);
	for (int i = 0; i < s->n; i++) {
		json_t *sc = json_object_get(s->v[i].summary, "scanner");
		json_t *v = json_object_get(sc, key);

		if (!json_is_integer(v))
			continue;
		fputs(name, f);
		labels(f, &s->v[i], NULL, NULL);
		fprintf(f, " %.9f\n", (double)json_integer_value(v) / 1e9);
	}
}

/*
 * Per pool: an integer field, or with @p rate the drain forecast (text
 * in telemetry: 22.11 has no doubles), left out where the pool has none.
 */
static void
pool_metric(FILE *f, const struct scrape *s, const char *name,
	    const char *help, const char *key, int rate)
{
	family(f, name, "gauge", help);
	for (int i = 0; i < s->n; i++) {
		json_t *arr = json_object_get(s->v[i].pools, "pools");
		size_t k;
		json_t *q;

		json_array_foreach(arr, k, q) {
			json_t *v = json_object_get(q, key);
			const char *nm = json_string_value(json_object_get(q, "name"));

			if (v == NULL || nm == NULL ||
			    mpa_cli_int(q, "destroyed", 0) != 0)
				continue;
			fputs(name, f);
			labels(f, &s->v[i], "pool", nm);
			if (rate && json_is_string(v))
				fprintf(f, " %s\n", json_string_value(v));
			else if (json_is_integer(v))
				fprintf(f, " %lld\n", (long long)json_integer_value(v));
			else
				fputs(" NaN\n", f);
		}
	}
}

/* The label of a stuck group's field, if the group has it. */
static void
group_label(FILE *f, json_t *g, const char *k)
{
	json_t *v = json_object_get(g, k);

	if (json_is_string(v)) {
		fprintf(f, ",%s=\"", k);
		put_label(f, json_string_value(v));
		fputc('"', f);
	} else if (json_is_integer(v)) {
		fprintf(f, ",%s=\"%lld\"", k, (long long)json_integer_value(v));
	}
}

/*
 * Stuck objects per holder without its call site: pool, state, and the
 * port and queue or the ring where they apply. Groups differing only in
 * site or lcore are summed, so the series stay few and stable while
 * sites come and go.
 */
static void
holder_metric(FILE *f, const struct scrape *s)
{
	static const char name[] = "mpaudit_holder_stuck_objects";

	family(f, name, "gauge",
	       "Stuck objects per pool, state and port/queue or ring.");
	for (int i = 0; i < s->n; i++) {
		json_t *sums = json_object();
		json_t *groups = json_object_get(s->v[i].stuck, "groups");
		const char *key;
		json_t *g, *n;
		char *lab;
		size_t k, len;
		FILE *m;

		json_array_foreach(groups, k, g) {
			lab = NULL;
			m = open_memstream(&lab, &len);
			if (m == NULL)
				break;
			fputs("{prefix=\"", m);
			put_label(m, s->v[i].prefix);
			fprintf(m, "\",pid=\"%ld\"", s->v[i].pid);
			group_label(m, g, "pool");
			group_label(m, g, "state");
			group_label(m, g, "port");
			group_label(m, g, "queue");
			group_label(m, g, "ring");
			fputc('}', m);
			if (fclose(m) != 0) {
				free(lab);
				break;
			}
			n = json_object_get(sums, lab);
			json_object_set_new(sums, lab, json_integer(
				(n != NULL ? json_integer_value(n) : 0) +
				mpa_cli_int(g, "count", 0)));
			free(lab);
		}
		json_object_foreach(sums, key, n)
			fprintf(f, "%s%s %lld\n", name, key,
				(long long)json_integer_value(n));
		json_decref(sums);
	}
}

/* Per heap kind, where heap tracking is active. */
static void
heap_metric(FILE *f, const struct scrape *s, const char *name,
	    const char *help, const char *key)
{
	static const char *const kinds[] = { "libc", "rte_malloc" };

	family(f, name, "gauge", help);
	for (int i = 0; i < s->n; i++) {
		json_t *h = json_object_get(s->v[i].summary, "heap");

		if (mpa_cli_int(h, "active", 0) == 0)
			continue;
		for (size_t k = 0; k < 2; k++) {
			json_t *o = json_object_get(h, kinds[k]);

			if (!json_is_object(o))
				continue;
			fputs(name, f);
			labels(f, &s->v[i], "kind", kinds[k]);
			fprintf(f, " %lld\n", (long long)mpa_cli_int(o, key, 0));
		}
	}
}

static void
exposition(FILE *f, const struct scrape *s)
{
	family(f, "mpaudit_up", "gauge",
	       "1 for each audited process that answered this scrape.");
	for (int i = 0; i < s->n; i++) {
		fputs("mpaudit_up", f);
		labels(f, &s->v[i], NULL, NULL);
		fputs(" 1\n", f);
	}
	family(f, "mpaudit_scrape_errors", "gauge",
	       "Telemetry sockets that did not answer this scrape.");
	fprintf(f, "mpaudit_scrape_errors %d\n", s->errors);
	proc_metric(f, s, "mpaudit_scans_total", "counter",
		    "Scans of the pools since the auditor started.", "scans");
	scan_metric(f, s, "mpaudit_scan_seconds_total", "counter",
		    "Time spent scanning the pools since the auditor started.",
		    "total_ns");
	scan_metric(f, s, "mpaudit_scan_last_seconds", "gauge",
		    "Duration of the latest scan of the pools.", "last_ns");
	scan_metric(f, s, "mpaudit_scan_max_seconds", "gauge",
		    "Longest scan of the pools since the auditor started.",
		    "max_ns");
	proc_metric(f, s, "mpaudit_stuck_objects", "gauge",
		    "Objects held beyond the stuck threshold, all pools.", "stuck");
	proc_metric(f, s, "mpaudit_stuck_groups", "gauge",
		    "Distinct holders of stuck objects.", "groups");
	proc_metric(f, s, "mpaudit_free_errors_total", "counter",
		    "Double, stray and foreign frees recorded.", "errors");
	family(f, "mpaudit_stuck_threshold_seconds", "gauge",
	       "Age beyond which a held object is stuck.");
	for (int i = 0; i < s->n; i++) {
		fputs("mpaudit_stuck_threshold_seconds", f);
		labels(f, &s->v[i], NULL, NULL);
		fprintf(f, " %.3f\n",
			(double)mpa_cli_int(s->v[i].summary, "stuck_ms", 0) / 1000.0);
	}
	family(f, "mpaudit_leaks_found", "gauge",
	       "1 when the audit so far found leaks, stuck objects or free errors (exit status 3).");
	for (int i = 0; i < s->n; i++) {
		fputs("mpaudit_leaks_found", f);
		labels(f, &s->v[i], NULL, NULL);
		fprintf(f, " %d\n", mpa_cli_int(s->v[i].summary, "exit_code", 0) == 3);
	}
	pool_metric(f, s, "mpaudit_pool_objects", "Objects in the pool.",
		    "size", 0);
	pool_metric(f, s, "mpaudit_pool_in_use_objects",
		    "Objects taken from the pool at the latest scan.", "in_use", 0);
	pool_metric(f, s, "mpaudit_pool_free_objects",
		    "Objects in the pool's ring and caches at the latest scan.", "free", 0);
	pool_metric(f, s, "mpaudit_pool_stuck_objects",
		    "Objects of the pool held beyond the stuck threshold.", "stuck", 0);
	pool_metric(f, s, "mpaudit_pool_driver_held_objects",
		    "Objects of the pool held by drivers (RX descriptors).",
		    "driver_held", 0);
	pool_metric(f, s, "mpaudit_pool_drain_rate_objects_per_second",
		    "Growth of the pool's in-use floor; absent while the history is too short.",
		    "rate_per_s", 1);
	pool_metric(f, s, "mpaudit_pool_exhaustion_seconds",
		    "Time until the pool has no free object at the drain rate; only for a draining pool.",
		    "exhaust_s", 0);
	holder_metric(f, s);
	heap_metric(f, s, "mpaudit_heap_live_bytes",
		    "Bytes of tracked heap allocations outstanding.", "live_bytes");
	heap_metric(f, s, "mpaudit_heap_live_allocations",
		    "Tracked heap allocations outstanding.", "live_count");
}

/* The socket a target option names, or NULL for every process. */
static int
target_socket(struct mpa_cli *c, char *path, size_t len, const char **only)
{
	char err[MPA_TELE_ERR_MAX];

	*only = NULL;
	if (c->socket != NULL) {
		*only = c->socket;
	} else if (c->prefix != NULL) {
		if (mpa_tele_find_prefix(c->prefix, path, len, err, sizeof(err)) != 0)
			goto fail;
		*only = path;
	} else if (c->pid != 0) {
		if (mpa_tele_find_pid(c->pid, path, len, err, sizeof(err)) != 0)
			goto fail;
		*only = path;
	}
	return 0;
fail:
	mpa_cli_err("%s", err);
	return -1;
}

int
mpa_cmd_metrics(struct mpa_cli *c)
{
	static struct scrape s;
	char path[108];
	int rc;

	if (target_socket(c, path, sizeof(path), &s.only) != 0)
		return MPA_EXIT_FAIL;
	scrape(&s);
	if (s.only != NULL && s.n == 0) {
		mpa_cli_err("%s: no audited process answered", s.only);
		return MPA_EXIT_FAIL;
	}
	exposition(stdout, &s);
	rc = fflush(stdout) == 0 ? MPA_EXIT_CLEAN : MPA_EXIT_FAIL;
	scrape_free(&s);
	return rc;
}

/* ---- serve --------------------------------------------------------------- */

/* Connections waiting to be accepted: scrapers are few. */
#define SERVE_BACKLOG 16

static struct scrape serve_scrape;

static enum MHD_Result
answer(void *cls, struct MHD_Connection *conn, const char *url,
       const char *method, const char *version, const char *data,
       size_t *size, void **state)
{
	static const char not_found[] = "not found: try /metrics\n";
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)cls; (void)version; (void)data; (void)size; (void)state;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return MHD_NO;
	if (strcmp(url, "/metrics") != 0) {
		r = MHD_create_response_from_buffer(sizeof(not_found) - 1,
						    (void *)not_found,
						    MHD_RESPMEM_PERSISTENT);
		if (r == NULL)
			return MHD_NO;
		ret = MHD_queue_response(conn, MHD_HTTP_NOT_FOUND, r);
		MHD_destroy_response(r);
		return ret;
	}
	/* One scrape at a time: the daemon runs a single thread. */
	f = open_memstream(&buf, &len);
	if (f == NULL)
		return MHD_NO;
	scrape(&serve_scrape);
	exposition(f, &serve_scrape);
	scrape_free(&serve_scrape);
	if (fclose(f) != 0) {
		free(buf);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer(len, buf, MHD_RESPMEM_MUST_FREE);
	if (r == NULL) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type",
				"text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* "A.B.C.D:PORT", IPv4: what a node exporter's --web.listen-address takes. */
static int
parse_listen(const char *s, struct sockaddr_in *sa)
{
	const char *colon = strrchr(s, ':');
	char host[INET_ADDRSTRLEN];
	char *end;
	long port;

	if (colon == NULL || (size_t)(colon - s) >= sizeof(host) || colon[1] < '0' ||
	    colon[1] > '9')
		return -1;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || port < 1 || port > 65535)
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int
mpa_cmd_serve(struct mpa_cli *c)
{
	struct sockaddr_in addr;
	struct MHD_Daemon *d;
	char path[108];
	int fd, one = 1;

	if (c->listen == NULL || parse_listen(c->listen, &addr) != 0) {
		mpa_cli_err("bad --listen '%s': expected IPv4ADDRESS:PORT, e.g. 127.0.0.1:9464",
			    c->listen != NULL ? c->listen : "");
		return MPA_EXIT_USAGE;
	}
	if (target_socket(c, path, sizeof(path), &serve_scrape.only) != 0)
		return MPA_EXIT_FAIL;
	/* Bound here, not by the daemon: a port in use is then said once,
	 * by us, rather than also by the library's own log line. */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
	    listen(fd, SERVE_BACKLOG) != 0) {
		mpa_cli_err("cannot listen on %s: %s", c->listen, strerror(errno));
		if (fd >= 0)
			close(fd);
		return MPA_EXIT_FAIL;
	}
	d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
			     0, NULL, NULL, answer, NULL,
			     MHD_OPTION_LISTEN_SOCKET, fd,
			     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
			     MHD_OPTION_END);
	if (d == NULL) {
		mpa_cli_err("cannot serve on %s: %s", c->listen, strerror(errno));
		close(fd);
		return MPA_EXIT_FAIL;
	}
	mpa_cli_catch_stop();
	printf("serving /metrics on http://%s/metrics\n", c->listen);
	fflush(stdout);
	/* A signal cuts the sleep short; one just before it waits a second. */
	while (!mpa_cli_stop)
		sleep(1);
	MHD_stop_daemon(d);
	return MPA_EXIT_CLEAN;
}
