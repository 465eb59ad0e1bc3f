/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * report.html of mpaudit soak (soak.h): one self-contained file (no
 * script, no fetch, opens from disk) with the verdict, a plot of in use
 * per pool over time written as inline SVG from the samples (stuck
 * events marked, the warm-up shaded), the pools' trends, the top
 * holders and heap stacks with when each first appeared, and the DUT's
 * final report.
 */

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "soak.h"

/* Plot geometry, in CSS pixels. */
#define PLOT_W 900
#define PLOT_H 360
#define PLOT_L 70	/* left margin: the y labels */
#define PLOT_R 20
#define PLOT_T 20
#define PLOT_B 40	/* bottom margin: the x labels */
#define PLOT_TICKS 5
#define LINE_W 3
/* Colour of the stuck-event marks; no pool line uses it. */
#define STUCK_COLOUR "#d62728"
#define REPORT_MAX_BYTES (4u << 20)

static const char *const palette[] = {
	"#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2",
	"#7f7f7f", "#bcbd22", "#17becf",
};

const char *
mpa_soak_colour(int i)
{
	return palette[i % (int)(sizeof(palette) / sizeof(palette[0]))];
}

void
mpa_soak_escape(FILE *f, const char *text)
{
	for (const char *p = text; *p != '\0'; p++) {
		switch (*p) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*p, f);
		}
	}
}

/* Every pool name seen in any sample, in order of first appearance. */
static int
pool_names(const struct mpa_soak *s, const char *names[], int max)
{
	int n = 0;

	for (int i = 0; i < s->nb_samples; i++)
		for (int j = 0; j < s->samples[i].nb_pools; j++) {
			const char *nm = s->samples[i].pools[j].name;
			int k;

			for (k = 0; k < n && strcmp(names[k], nm) != 0; k++)
				;
			if (k == n && n < max)
				names[n++] = nm;
		}
	return n;
}

/* A round step for about PLOT_TICKS ticks up to @max. */
static double
tick_step(double max)
{
	double raw = max / PLOT_TICKS, mag = pow(10, floor(log10(raw)));

	if (raw / mag >= 5)
		return 5 * mag;
	if (raw / mag >= 2)
		return 2 * mag;
	return mag;
}

static void
plot(FILE *f, const struct mpa_soak *s)
{
	const char *names[MPA_SOAK_MAX_POOLS];
	int n = pool_names(s, names, MPA_SOAK_MAX_POOLS);
	double tmax = s->o.duration_s, ymax = 10, step;
	const double w = PLOT_W - PLOT_L - PLOT_R, h = PLOT_H - PLOT_T - PLOT_B;

#define X(t) (PLOT_L + (t) / tmax * w)
#define Y(v) (PLOT_T + h - (v) / ymax * h)
	for (int i = 0; i < s->nb_samples; i++) {
		if (s->samples[i].t_s > tmax)
			tmax = s->samples[i].t_s;
		for (int j = 0; j < s->samples[i].nb_pools; j++)
			if (s->samples[i].pools[j].in_use * 1.1 > ymax)
				ymax = s->samples[i].pools[j].in_use * 1.1;
	}
	step = tick_step(ymax);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" id=\"plot\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
		"font-family=\"sans-serif\" font-size=\"12\">\n", PLOT_W, PLOT_H,
		PLOT_W, PLOT_H);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" "
		"fill=\"#ffffff\"/>\n", PLOT_W, PLOT_H);
	if (s->o.warmup_s > 0)
		fprintf(f, "<rect class=\"warmup\" x=\"%.1f\" y=\"%d\" "
			"width=\"%.1f\" height=\"%.1f\" fill=\"#f0f0f0\"><title>"
			"warm-up: not judged</title></rect>\n", X(0.0), PLOT_T,
			X(fmin(s->o.warmup_s, tmax)) - X(0.0), h);
	for (double v = 0; v <= ymax; v += step)
		fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
			"stroke=\"#dddddd\"/><text x=\"%d\" y=\"%.1f\" "
			"text-anchor=\"end\">%.0f</text>\n", PLOT_L,
			PLOT_W - PLOT_R, Y(v), Y(v), PLOT_L - 6, Y(v) + 4, v);
	for (double t = 0; t <= tmax; t += tick_step(tmax))
		fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">"
			"%.0f s</text>\n", X(t), PLOT_H - PLOT_B + 18, t);
	fprintf(f, "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"#000000\"/>\n<line x1=\"%d\" x2=\"%d\" y1=\"%d\" "
		"y2=\"%.1f\" stroke=\"#000000\"/>\n", PLOT_L, PLOT_W - PLOT_R,
		Y(0.0), Y(0.0), PLOT_L, PLOT_L, PLOT_T, Y(0.0));
	fprintf(f, "<text x=\"14\" y=\"%.1f\" transform=\"rotate(-90 14 %.1f)\" "
		"text-anchor=\"middle\">objects in use</text>\n",
		PLOT_T + h / 2, PLOT_T + h / 2);
	/* Stuck events: when each holder of stuck objects first appeared
	 * (holders first seen at one sample share a mark). */
	for (int i = 0; i < s->nb_holders; i++) {
		const struct mpa_soak_holder *hd = &s->holders[i];
		int seen = 0;

		for (int j = 0; j < i; j++)
			seen |= s->holders[j].first_s == hd->first_s;
		if (seen)
			continue;
		fprintf(f, "<g class=\"stuck\"><line x1=\"%.1f\" x2=\"%.1f\" "
			"y1=\"%d\" y2=\"%.1f\" stroke=\"" STUCK_COLOUR "\" "
			"stroke-width=\"2\" stroke-dasharray=\"6 4\"/>"
			"<circle cx=\"%.1f\" cy=\"%d\" r=\"6\" fill=\""
			STUCK_COLOUR "\"/><title>%.1f s: stuck in ",
			X(hd->first_s), X(hd->first_s), PLOT_T, Y(0.0),
			X(hd->first_s), PLOT_T + 6, hd->first_s);
		for (int j = i; j < s->nb_holders; j++)
			if (s->holders[j].first_s == hd->first_s) {
				mpa_soak_escape(f, s->holders[j].pool);
				fprintf(f, " (%s at ", s->holders[j].state);
				mpa_soak_escape(f, s->holders[j].site[0] ?
						s->holders[j].site : "-");
				fprintf(f, ") ");
			}
		fprintf(f, "</title></g>\n");
	}
	for (int k = 0; k < n; k++) {
		fprintf(f, "<polyline class=\"pool\" fill=\"none\" stroke=\"%s\" "
			"stroke-width=\"%d\" stroke-linejoin=\"round\" points=\"",
			mpa_soak_colour(k), LINE_W);
		for (int i = 0; i < s->nb_samples; i++)
			for (int j = 0; j < s->samples[i].nb_pools; j++)
				if (strcmp(s->samples[i].pools[j].name,
					   names[k]) == 0)
					fprintf(f, "%.1f,%.1f ",
						X(s->samples[i].t_s),
						Y((double)s->samples[i].pools[j]
						  .in_use));
		fprintf(f, "\"><title>");
		mpa_soak_escape(f, names[k]);
		fprintf(f, "</title></polyline>\n");
	}
	fprintf(f, "</svg>\n<p class=\"legend\">");
	for (int k = 0; k < n; k++) {
		fprintf(f, "<span style=\"color:%s\">&#9644;</span> ",
			mpa_soak_colour(k));
		mpa_soak_escape(f, names[k]);
		fprintf(f, " &nbsp; ");
	}
	fprintf(f, "<span style=\"color:" STUCK_COLOUR "\">&#9679;</span> "
		"a holder of stuck objects appeared &nbsp; <span style=\"background:"
		"#f0f0f0\">&nbsp;&nbsp;&nbsp;</span> warm-up</p>\n");
#undef X
#undef Y
}

static void
cell(FILE *f, const char *text)
{
	fputs("<td>", f);
	mpa_soak_escape(f, text[0] ? text : "-");
	fputs("</td>", f);
}

static void
cell_long(FILE *f, long v)
{
	if (v < 0)
		fputs("<td>-</td>", f);
	else
		fprintf(f, "<td class=\"n\">%ld</td>", v);
}

static void
pools_table(FILE *f, const struct mpa_soak *s)
{
	const struct mpa_soak_verdict *v = &s->v;
	char buf[64];

	fprintf(f, "<h2>Pools</h2>\n<table><tr><th>pool</th><th>size</th>"
		"<th>in use (start of window)</th><th>in use (end)</th>"
		"<th>floor first/last third</th><th>rate (objects/s)</th>"
		"<th>growth</th><th>tolerance</th><th>trend</th></tr>\n");
	for (int i = 0; i < v->nb_pools; i++) {
		const struct mpa_soak_pool_verdict *p = &v->pools[i];

		fprintf(f, "<tr>");
		cell(f, p->name);
		cell_long(f, p->size);
		cell_long(f, p->in_use_first);
		cell_long(f, p->in_use_last);
		snprintf(buf, sizeof(buf), "%ld / %ld", p->floor_first,
			 p->floor_last);
		cell(f, buf);
		if (isnan(p->rate_per_s))
			snprintf(buf, sizeof(buf), "-");
		else
			snprintf(buf, sizeof(buf), "%.3f", p->rate_per_s);
		cell(f, buf);
		snprintf(buf, sizeof(buf), "%.0f", p->growth);
		cell(f, buf);
		snprintf(buf, sizeof(buf), "%.0f", p->limit);
		cell(f, buf);
		fprintf(f, "<td class=\"%s\">%s</td></tr>\n", p->failed ?
			"bad" : "good", p->failed ? "grows" : "flat");
	}
	fprintf(f, "</table>\n");
}

static void
holders_table(FILE *f, const struct mpa_soak *s)
{
	char buf[64];

	fprintf(f, "<h2>Top holders of stuck objects</h2>\n");
	if (s->nb_holders == 0) {
		fprintf(f, "<p>None.</p>\n");
		return;
	}
	fprintf(f, "<table><tr><th>count</th><th>pool</th><th>state</th>"
		"<th>lcore</th><th>port</th><th>queue</th><th>ring</th>"
		"<th>site</th><th>function</th><th>max age (ms)</th>"
		"<th>first seen</th></tr>\n");
	for (int i = 0; i < s->nb_holders && i < MPA_SOAK_TOP * 4; i++) {
		const struct mpa_soak_holder *h = &s->holders[i];

		fprintf(f, "<tr class=\"holder\">");
		cell_long(f, h->count);
		cell(f, h->pool);
		cell(f, h->state);
		cell_long(f, h->lcore);
		cell_long(f, h->port);
		cell_long(f, h->queue);
		cell(f, h->ring);
		cell(f, h->site);
		cell(f, h->function);
		cell_long(f, h->max_age_ms);
		snprintf(buf, sizeof(buf), "%.1f s", h->first_s);
		cell(f, buf);
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n");
}

static void
stacks_table(FILE *f, const struct mpa_soak *s)
{
	char buf[64];

	fprintf(f, "<h2>Heap stacks</h2>\n");
	if (s->nb_stacks == 0) {
		fprintf(f, "<p>None tracked (heap tracking needs the preload)."
			"</p>\n");
		return;
	}
	fprintf(f, "<table><tr><th>kind</th><th>bytes after warm-up</th>"
		"<th>bytes at end</th><th>grew at</th><th>first seen</th>"
		"<th>stack</th></tr>\n");
	for (int i = 0; i < s->nb_stacks && i < MPA_SOAK_TOP * 4; i++) {
		const struct mpa_soak_stack *k = &s->stacks[i];

		fprintf(f, "<tr>");
		cell(f, k->kind);
		cell_long(f, k->bytes_first);
		cell_long(f, k->bytes_last);
		snprintf(buf, sizeof(buf), "%d of %d samples", k->grew_steps,
			 k->steps);
		cell(f, buf);
		snprintf(buf, sizeof(buf), "%.1f s", k->first_s);
		cell(f, buf);
		cell(f, k->stack);
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n");
}

static void
final_report(FILE *f, const struct mpa_soak *s)
{
	char buf[8192];
	size_t n, total = 0;
	FILE *in;

	fprintf(f, "<h2>Final report of the DUT</h2>\n");
	in = s->have_report ? fopen(s->report_path, "r") : NULL;
	if (in == NULL) {
		fprintf(f, "<p>No final report%s.</p>\n", s->end ==
			MPA_SOAK_COMPLETED ? "" : " (the soak ended early)");
		return;
	}
	fprintf(f, "<pre id=\"report\">");
	while ((n = fread(buf, 1, sizeof(buf) - 1, in)) > 0 &&
	       total < REPORT_MAX_BYTES) {
		buf[n] = '\0';
		mpa_soak_escape(f, buf);
		total += n;
	}
	if (total >= REPORT_MAX_BYTES)
		fprintf(f, "\n... (cut at %u bytes: see report.json)",
			REPORT_MAX_BYTES);
	fprintf(f, "</pre>\n");
	fclose(in);
}

static void
run_table(FILE *f, const struct mpa_soak *s)
{
	/* The same means as soak.json's: after the warm-up only. */
	double g = mpa_soak_mean_mpps(s, 1), d = mpa_soak_mean_mpps(s, 0);

	fprintf(f, "<table><tr><th>duration</th><td>%.1f of %.0f s, %d "
		"samples every %g s, warm-up %g s, tolerance %g</td></tr>\n",
		s->end_t_s, s->o.duration_s, s->nb_samples, s->o.interval_s,
		s->o.warmup_s, s->o.tolerance);
	fprintf(f, "<tr><th>DUT</th><td>");
	mpa_soak_escape(f, s->dut.pid > 0 ? s->dut.cmdline : "attached");
	fprintf(f, " (file prefix ");
	mpa_soak_escape(f, s->dut_prefix);
	fprintf(f, ")</td></tr>\n<tr><th>generator</th><td>");
	mpa_soak_escape(f, s->gen.pid > 0 ? s->gen.cmdline : s->gen_prefix[0] ?
			s->gen_prefix : "none");
	fprintf(f, "</td></tr>\n<tr><th>mean rate</th><td>generator ");
	if (!isnan(g))
		fprintf(f, "%.2f Mpps", g);
	else
		fprintf(f, "-");
	fprintf(f, ", DUT ");
	if (!isnan(d))
		fprintf(f, "%.2f Mpps", d);
	else
		fprintf(f, "-");
	fprintf(f, " (after the warm-up)</td></tr></table>\n");
}

int
mpa_soak_write_html(const struct mpa_soak *s, const char *path)
{
	const struct mpa_soak_verdict *v = &s->v;
	char tmp[4200];
	const char *colour = strcmp(v->word, "pass") == 0 ? "#2ca02c" :
		strcmp(v->word, "interrupted") == 0 ? "#ff7f0e" : STUCK_COLOUR;
	FILE *f;
	int bad;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL) {
		mpa_cli_err("soak: cannot write %s", tmp);
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta "
		"charset=\"utf-8\"><title>mpaudit soak: %s</title>\n<style>\n"
		"body{font-family:sans-serif;margin:20px;color:#222}\n"
		".verdict{display:inline-block;padding:6px 16px;color:#fff;"
		"font-size:24px;font-weight:bold;background:%s}\n"
		"table{border-collapse:collapse;margin:8px 0}\n"
		"td,th{border:1px solid #ccc;padding:3px 8px;text-align:left;"
		"font-size:13px}\ntd.n{text-align:right}\n"
		".bad{color:" STUCK_COLOUR ";font-weight:bold}\n"
		".good{color:#2ca02c}\npre{background:#f6f6f6;padding:8px;"
		"font-size:12px;overflow:auto;max-height:600px}\n"
		"</style></head><body>\n<h1>mpaudit soak</h1>\n", v->word,
		colour);
	fprintf(f, "<p><span class=\"verdict\" id=\"verdict\">%s</span> "
		"exit status %d</p>\n", v->word, v->exit_code);
	if (s->error[0] != '\0') {
		fprintf(f, "<p class=\"bad\" id=\"error\">");
		mpa_soak_escape(f, s->error);
		fprintf(f, "</p>\n");
	}
	if (v->nb_reasons > 0) {
		fprintf(f, "<ul id=\"reasons\">\n");
		for (int i = 0; i < v->nb_reasons; i++) {
			fprintf(f, "<li>");
			mpa_soak_escape(f, v->reasons[i]);
			fprintf(f, "</li>\n");
		}
		fprintf(f, "</ul>\n");
	}
	run_table(f, s);
	fprintf(f, "<h2>Objects in use per pool</h2>\n");
	plot(f, s);
	pools_table(f, s);
	holders_table(f, s);
	stacks_table(f, s);
	final_report(f, s);
	fprintf(f, "</body></html>\n");
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		mpa_cli_err("soak: cannot write %s", path);
		return -1;
	}
	return 0;
}
