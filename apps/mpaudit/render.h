/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/**
 * @file
 * Human output of the mpaudit CLI: aligned tables whose column widths
 * come from the data (numbers right-aligned, absent fields "-"), and the
 * formatting of single JSON values. One renderer for every command, so
 * that a field prints alike wherever it appears.
 */

#ifndef MPA_CLI_RENDER_H
#define MPA_CLI_RENDER_H

#include <stdio.h>

#include <jansson.h>

/** How a column is aligned and when it is shown. */
enum {
	MPA_COL_LEFT = 0,
	MPA_COL_NUM = 1 << 0,		/**< right-aligned */
	MPA_COL_OPTIONAL = 1 << 1,	/**< shown only if an entry has the field */
	MPA_COL_NONZERO = 1 << 2,	/**< ... and only if one is not 0 */
};

/** Most columns a table of JSON entries has. */
#define MPA_TABLE_COLS_MAX 16

/** Format the cell of @p entry into @p buf; absent: leave buf empty. */
typedef void (*mpa_cell_cb_t)(json_t *entry, const char *key, char *buf,
			      size_t len);

/** One column of a table of JSON entries. */
struct mpa_col {
	const char *title;
	const char *key;	/**< field of the entry */
	int flags;
	mpa_cell_cb_t fmt;	/**< NULL: the value as it is */
};

/** A table being filled; cells are copied. */
struct mpa_table;

/** A table of @p ncols columns with these titles and flags; NULL on ENOMEM. */
struct mpa_table *mpa_table_new(int ncols, const char *const *titles,
				const int *flags);

/** Free @p t; NULL is accepted. */
void mpa_table_free(struct mpa_table *t);

/** Start a row. @return 0, or -1 out of memory. */
int mpa_table_row(struct mpa_table *t);

/** Set cell @p col of the current row; NULL or "" prints "-". */
int mpa_table_cell(struct mpa_table *t, int col, const char *text);

/** Add a continuation line under the current row, in its last column. */
int mpa_table_more(struct mpa_table *t, const char *text);

/** Hide column @p col (its cells are still kept). */
void mpa_table_hide(struct mpa_table *t, int col);

/** Print @p t: a title line, then one line per row (and continuations). */
void mpa_table_print(const struct mpa_table *t, FILE *f);

/**
 * Print the entries of @p arr as a table of @p cols (optional columns
 * shown only when an entry has them).
 *
 * @return 0, or -1 out of memory.
 */
int mpa_render_list(FILE *f, const struct mpa_col *cols, int ncols,
		    json_t *arr);

/** The value of @p v as text: integers as they are, reals with one
 *  decimal, strings unquoted, arrays joined by ", "; NULL: empty. */
void mpa_render_value(json_t *v, char *buf, size_t len);

/** Milliseconds as "850 ms", "2.7 s", "3.2 min", "1.5 h". */
void mpa_render_ms(double ms, char *buf, size_t len);

/** Bytes as "999 B", "1.4 KiB", "3.0 MiB". */
void mpa_render_bytes(double bytes, char *buf, size_t len);

/** Cell formatters for mpa_col.fmt. */
void mpa_cell_ms(json_t *entry, const char *key, char *buf, size_t len);
void mpa_cell_seconds(json_t *entry, const char *key, char *buf, size_t len);
void mpa_cell_site(json_t *entry, const char *key, char *buf, size_t len);

/** Print the members of object @p o as "key: value" lines, keys aligned;
 *  nested objects are indented below their key. */
void mpa_render_object(FILE *f, json_t *o, int indent);

/** Print @p v as one JSON document (2-space indent) and a newline. */
int mpa_render_json(FILE *f, json_t *v);

#endif /* MPA_CLI_RENDER_H */
