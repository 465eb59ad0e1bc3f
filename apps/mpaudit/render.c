/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Tables and values of the mpaudit CLI (render.h). A table keeps every
 * cell until it is printed, since a column is as wide as its widest cell.
 */

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

/* Spaces between two columns. */
#define COL_GAP 2
/* Longest cell kept, clipped beyond. */
#define CELL_MAX 512

struct row {
	char **cells;
	char **more;
	int nmore;
};

struct mpa_table {
	int ncols;
	const char **titles;
	int *flags;
	int *hidden;
	struct row *rows;
	int nrows, cap;
};

struct mpa_table *
mpa_table_new(int ncols, const char *const *titles, const int *flags)
{
	struct mpa_table *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->ncols = ncols;
	t->titles = calloc(ncols, sizeof(*t->titles));
	t->flags = calloc(ncols, sizeof(*t->flags));
	t->hidden = calloc(ncols, sizeof(*t->hidden));
	if (t->titles == NULL || t->flags == NULL || t->hidden == NULL) {
		mpa_table_free(t);
		return NULL;
	}
	for (int i = 0; i < ncols; i++) {
		t->titles[i] = titles[i];
		t->flags[i] = flags ? flags[i] : 0;
	}
	return t;
}

void
mpa_table_free(struct mpa_table *t)
{
	if (t == NULL)
		return;
	for (int r = 0; r < t->nrows; r++) {
		for (int c = 0; c < t->ncols; c++)
			free(t->rows[r].cells[c]);
		for (int m = 0; m < t->rows[r].nmore; m++)
			free(t->rows[r].more[m]);
		free(t->rows[r].cells);
		free(t->rows[r].more);
	}
	free(t->rows);
	free(t->titles);
	free(t->flags);
	free(t->hidden);
	free(t);
}

int
mpa_table_row(struct mpa_table *t)
{
	struct row *r;

	if (t->nrows == t->cap) {
		int nc = t->cap ? 2 * t->cap : 16;
		struct row *nr = realloc(t->rows, nc * sizeof(*nr));

		if (nr == NULL)
			return -1;
		t->rows = nr;
		t->cap = nc;
	}
	r = &t->rows[t->nrows];
	memset(r, 0, sizeof(*r));
	r->cells = calloc(t->ncols, sizeof(*r->cells));
	if (r->cells == NULL)
		return -1;
	t->nrows++;
	return 0;
}

int
mpa_table_cell(struct mpa_table *t, int col, const char *text)
{
	struct row *r;
	char *s;

	if (t->nrows == 0 || col < 0 || col >= t->ncols)
		return -1;
	r = &t->rows[t->nrows - 1];
	s = strndup(text != NULL && text[0] != '\0' ? text : "-", CELL_MAX);
	if (s == NULL)
		return -1;
	free(r->cells[col]);
	r->cells[col] = s;
	return 0;
}

int
mpa_table_more(struct mpa_table *t, const char *text)
{
	struct row *r;
	char **nm;

	if (t->nrows == 0)
		return -1;
	r = &t->rows[t->nrows - 1];
	nm = realloc(r->more, (r->nmore + 1) * sizeof(*nm));
	if (nm == NULL)
		return -1;
	r->more = nm;
	r->more[r->nmore] = strndup(text, CELL_MAX);
	if (r->more[r->nmore] == NULL)
		return -1;
	r->nmore++;
	return 0;
}

void
mpa_table_hide(struct mpa_table *t, int col)
{
	if (col >= 0 && col < t->ncols)
		t->hidden[col] = 1;
}

static const char *
cell(const struct mpa_table *t, int r, int c)
{
	const char *s = t->rows[r].cells[c];

	return s != NULL ? s : "-";
}

static int
last_visible(const struct mpa_table *t)
{
	int last = -1;

	for (int c = 0; c < t->ncols; c++)
		if (!t->hidden[c])
			last = c;
	return last;
}

/* Print one line: the titles (@r < 0) or row @r. Returns where the last
 * column starts. */
static int
print_line(const struct mpa_table *t, const int *w, int r, FILE *f)
{
	int last = last_visible(t), pos = 0, start = 0;

	for (int c = 0; c <= last; c++) {
		const char *s = r < 0 ? t->titles[c] : cell(t, r, c);
		int pad;

		if (t->hidden[c])
			continue;
		if (pos > 0) {
			fprintf(f, "%*s", COL_GAP, "");
			pos += COL_GAP;
		}
		start = pos;
		pad = w[c] - (int)strlen(s);
		if (t->flags[c] & MPA_COL_NUM)
			fprintf(f, "%*s%s", pad, "", s);
		else if (c == last)
			fputs(s, f);
		else
			fprintf(f, "%s%*s", s, pad, "");
		pos += w[c];
	}
	fputc('\n', f);
	return start;
}

void
mpa_table_print(const struct mpa_table *t, FILE *f)
{
	int *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));
	int start;

	if (w == NULL)
		return;
	for (int c = 0; c < t->ncols; c++) {
		w[c] = (int)strlen(t->titles[c]);
		for (int r = 0; r < t->nrows; r++) {
			int l = (int)strlen(cell(t, r, c));

			if (l > w[c])
				w[c] = l;
		}
	}
	start = print_line(t, w, -1, f);
	for (int r = 0; r < t->nrows; r++) {
		start = print_line(t, w, r, f);
		for (int m = 0; m < t->rows[r].nmore; m++)
			fprintf(f, "%*s%s\n", start, "", t->rows[r].more[m]);
	}
	free(w);
}

/* ---- values ------------------------------------------------------------ */

void
mpa_render_value(json_t *v, char *buf, size_t len)
{
	size_t i, off = 0;
	json_t *e;

	buf[0] = '\0';
	if (v == NULL)
		return;
	switch (json_typeof(v)) {
	case JSON_INTEGER:
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
		break;
	case JSON_REAL:
		snprintf(buf, len, "%.1f", json_real_value(v));
		break;
	case JSON_STRING:
		snprintf(buf, len, "%s", json_string_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, len, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, len, "false");
		break;
	case JSON_ARRAY:
		json_array_foreach(v, i, e) {
			char one[CELL_MAX];

			mpa_render_value(e, one, sizeof(one));
			if (off < len)
				off += snprintf(buf + off, len - off, "%s%s",
						i ? ", " : "", one);
		}
		break;
	default:
		/* null, objects: nothing to show in one cell */
		break;
	}
}

void
mpa_render_ms(double ms, char *buf, size_t len)
{
	if (ms < 1000)
		snprintf(buf, len, "%.0f ms", ms);
	else if (ms < 60e3)
		snprintf(buf, len, "%.1f s", ms / 1e3);
	else if (ms < 3600e3)
		snprintf(buf, len, "%.1f min", ms / 60e3);
	else
		snprintf(buf, len, "%.1f h", ms / 3600e3);
}

void
mpa_render_bytes(double b, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	unsigned int u = 0;

	while (b >= 1024 && u + 1 < sizeof(unit) / sizeof(unit[0])) {
		b /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f B", b);
	else
		snprintf(buf, len, "%.1f %s", b, unit[u]);
}

void
mpa_cell_ms(json_t *entry, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(entry, key);

	buf[0] = '\0';
	if (json_is_number(v))
		mpa_render_ms(json_number_value(v), buf, len);
}

void
mpa_cell_seconds(json_t *entry, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(entry, key);

	buf[0] = '\0';
	if (json_is_number(v))
		mpa_render_ms(json_number_value(v) * 1e3, buf, len);
}

/* "file:line (function)", as the report prints a site. */
void
mpa_cell_site(json_t *entry, const char *key, char *buf, size_t len)
{
	const char *site = json_string_value(json_object_get(entry, key));
	const char *fn = json_string_value(json_object_get(entry, "function"));

	buf[0] = '\0';
	if (site == NULL)
		return;
	if (fn != NULL)
		snprintf(buf, len, "%s (%s)", site, fn);
	else
		snprintf(buf, len, "%s", site);
}

static int
col_present(const struct mpa_col *col, json_t *arr)
{
	size_t i;
	json_t *e;

	json_array_foreach(arr, i, e) {
		json_t *v = json_object_get(e, col->key);

		if (v != NULL && (!(col->flags & MPA_COL_NONZERO) ||
				  !json_is_integer(v) ||
				  json_integer_value(v) != 0))
			return 1;
	}
	return 0;
}

int
mpa_render_list(FILE *f, const struct mpa_col *cols, int ncols, json_t *arr)
{
	const char *titles[MPA_TABLE_COLS_MAX] = { NULL };
	int flags[MPA_TABLE_COLS_MAX] = { 0 };
	struct mpa_table *t;
	size_t i;
	json_t *e;
	int ret = -1;

	if (ncols > MPA_TABLE_COLS_MAX)
		return -1;
	for (int c = 0; c < ncols; c++) {
		titles[c] = cols[c].title;
		flags[c] = cols[c].flags;
	}
	t = mpa_table_new(ncols, titles, flags);
	if (t == NULL)
		return -1;
	for (int c = 0; c < ncols; c++)
		if ((cols[c].flags & MPA_COL_OPTIONAL) &&
		    !col_present(&cols[c], arr))
			mpa_table_hide(t, c);
	json_array_foreach(arr, i, e) {
		if (mpa_table_row(t) != 0)
			goto out;
		for (int c = 0; c < ncols; c++) {
			char buf[CELL_MAX];

			if (cols[c].fmt != NULL)
				cols[c].fmt(e, cols[c].key, buf, sizeof(buf));
			else
				mpa_render_value(json_object_get(e,
						 cols[c].key), buf,
						 sizeof(buf));
			if (mpa_table_cell(t, c, buf) != 0)
				goto out;
		}
	}
	mpa_table_print(t, f);
	ret = 0;
out:
	mpa_table_free(t);
	return ret;
}

void
mpa_render_object(FILE *f, json_t *o, int indent)
{
	const char *k;
	size_t w = 0;
	json_t *v;

	json_object_foreach(o, k, v) {
		if (strlen(k) > w)
			w = strlen(k);
	}
	json_object_foreach(o, k, v) {
		char buf[CELL_MAX];

		if (json_is_object(v)) {
			fprintf(f, "%*s%s:\n", indent, "", k);
			mpa_render_object(f, v, indent + 2);
			continue;
		}
		mpa_render_value(v, buf, sizeof(buf));
		fprintf(f, "%*s%s:%*s %s\n", indent, "", k,
			(int)(w - strlen(k)), "", buf[0] ? buf : "-");
	}
}

int
mpa_render_json(FILE *f, json_t *v)
{
	if (json_dumpf(v, f, JSON_INDENT(2)) != 0)
		return -1;
	fputc('\n', f);
	return 0;
}
