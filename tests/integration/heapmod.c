/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * heapmod: a module that heapleak (mode dlclose) dlopen()s, calls once and
 * dlclose()s. Its one function leaks a libc block and an rte_malloc block;
 * the report must still name "heapmod_leak (heapmod.c:LINE)" after the
 * module is gone, so symbolisation cannot rely on the module being mapped.
 *
 * Built like heapleak (-g -O1 -fno-inline ...) so that each allocating
 * call's line is the one passed to @note.
 */

#include <stddef.h>
#include <stdlib.h>

#include <rte_malloc.h>

typedef void heapmod_note_fn(const char *file, const char *func, int line,
			     const char *kind, const char *type, int socket,
			     void *p, size_t size);

void heapmod_leak(heapmod_note_fn *note);

/* Tell heapleak's ledger about each block, with the line of its call. */
void
heapmod_leak(heapmod_note_fn *note)
{
	void *p;
	int line;

	p = malloc(777); line = __LINE__;
	note("heapmod.c", __func__, line, "libc", NULL, -1, p, 777);
	p = rte_malloc("heapmod", 1234, 0); line = __LINE__;
	note("heapmod.c", __func__, line, "rte_malloc", "heapmod", -1, p, 1234);
}
