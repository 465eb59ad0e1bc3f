/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * Symbolisation at report time. Each module path gets its own Dwfl with
 * the file reported at bias 0, so a frame is looked up by its offset
 * (pc - load bias) whatever the address the module had, or has no longer:
 * nothing here reads the running process's memory.
 */

#define _GNU_SOURCE

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "symbol.h"

struct sym_module {
	struct sym_module *next;
	char *path;
	Dwfl *dwfl;           /* NULL: the file could not be opened */
	Dwfl_Module *mod;
};

static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sym_module *sym_modules;

/*
 * Frames already rendered, by (module, offset). A report renders the same
 * frames again and again (every stack of a service shares its outer
 * frames, and the periodic report renders them all every time), and a
 * lookup in a large stripped binary walks its whole symbol table: on
 * OVS-DPDK's heap, rendering without this took seconds per report.
 */
struct sym_memo {
	uintptr_t offset;
	uint32_t module;      /* UINT32_MAX: empty */
	char *text;
};
static struct sym_memo *memo;
static uint32_t memo_cap, memo_n;

static uint32_t
memo_slot(uint32_t module, uintptr_t offset, uint32_t cap)
{
	uint64_t h = ((uint64_t)offset ^ ((uint64_t)module << 40)) *
		     UINT64_C(0x9E3779B97F4A7C15);

	return (uint32_t)(h >> 32) & (cap - 1);
}

/* The text of a rendered frame, or NULL. Called with sym_lock held. */
static const char *
memo_get(uint32_t module, uintptr_t offset)
{
	if (memo_cap == 0)
		return NULL;
	for (uint32_t j = memo_slot(module, offset, memo_cap);
	     memo[j].module != UINT32_MAX; j = (j + 1) & (memo_cap - 1))
		if (memo[j].module == module && memo[j].offset == offset)
			return memo[j].text;
	return NULL;
}

/* Remember @p text; out of memory, it is simply not remembered. */
static void
memo_put(uint32_t module, uintptr_t offset, const char *text)
{
	uint32_t j;
	char *t;

	if ((memo_n + 1) * 2 > memo_cap) {
		uint32_t cap = memo_cap != 0 ? memo_cap * 2 : 1024;
		struct sym_memo *m = malloc((size_t)cap * sizeof(*m));

		if (m == NULL)
			return;
		for (uint32_t i = 0; i < cap; i++)
			m[i].module = UINT32_MAX;
		for (uint32_t i = 0; i < memo_cap; i++) {
			if (memo[i].module == UINT32_MAX)
				continue;
			j = memo_slot(memo[i].module, memo[i].offset, cap);
			while (m[j].module != UINT32_MAX)
				j = (j + 1) & (cap - 1);
			m[j] = memo[i];
		}
		free(memo);
		memo = m;
		memo_cap = cap;
	}
	t = strdup(text);
	if (t == NULL)
		return;
	j = memo_slot(module, offset, memo_cap);
	while (memo[j].module != UINT32_MAX)
		j = (j + 1) & (memo_cap - 1);
	memo[j].module = module;
	memo[j].offset = offset;
	memo[j].text = t;
	memo_n++;
}

static char *debuginfo_path;   /* NULL: elfutils' default search path */

static const Dwfl_Callbacks sym_callbacks = {
	.find_elf = dwfl_build_id_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.section_address = dwfl_offline_section_address,
	.debuginfo_path = &debuginfo_path,
};

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* The module of @p path, opened on first use. Called with sym_lock held. */
static struct sym_module *
sym_open(const char *path)
{
	struct sym_module *m;

	for (m = sym_modules; m != NULL; m = m->next)
		if (strcmp(m->path, path) == 0)
			return m;
	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return NULL;
	m->path = strdup(path);
	if (m->path == NULL) {
		free(m);
		return NULL;
	}
	/* A path that is not a file (the vDSO's name, a deleted module)
	 * stays in the list without a Dwfl, so it is tried only once. */
	if (path[0] != '\0') {
		m->dwfl = dwfl_begin(&sym_callbacks);
		if (m->dwfl != NULL) {
			dwfl_report_begin(m->dwfl);
			/* bias 0: module addresses are link-time addresses */
			m->mod = dwfl_report_elf(m->dwfl, base_name(path), path,
						 -1, 0, true);
			if (dwfl_report_end(m->dwfl, NULL, NULL) != 0 ||
			    m->mod == NULL) {
				dwfl_end(m->dwfl);
				m->dwfl = NULL;
				m->mod = NULL;
			}
		}
	}
	m->next = sym_modules;
	sym_modules = m;
	return m;
}

/*
 * The compile unit covering @p addr. Files without .debug_aranges (clang
 * does not emit it) are not found by the index this elfutils uses, so
 * then the units' own ranges are searched.
 */
static Dwarf_Die *
sym_cu(Dwfl_Module *mod, Dwarf_Addr addr, Dwarf_Addr *bias)
{
	Dwarf_Die *cu = dwfl_module_addrdie(mod, addr, bias);

	if (cu != NULL)
		return cu;
	while ((cu = dwfl_module_nextcu(mod, cu, bias)) != NULL)
		if (dwarf_haspc(cu, addr - *bias) > 0)
			return cu;
	return NULL;
}

/*
 * Function and line at @p addr. The name is the symbol table's, else the
 * DWARF subprogram enclosing it (a symbol table stripped without separate
 * debug info).
 */
static void
sym_lookup(Dwfl_Module *mod, Dwarf_Addr addr, const char **fn,
	   const char **file, int *line)
{
	GElf_Off off;
	GElf_Sym sym;
	Dwarf_Addr bias = 0;
	Dwarf_Die *cu = sym_cu(mod, addr, &bias);
	Dwarf_Die *scopes = NULL;
	Dwarf_Line *dl;
	int n;

	*fn = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL, NULL, NULL);
	*file = NULL;
	if (cu == NULL)
		return;
	if (*fn == NULL || (*fn)[0] == '\0') {
		*fn = NULL;
		n = dwarf_getscopes(cu, addr - bias, &scopes);
		for (int i = 0; i < n && *fn == NULL; i++)
			if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
				*fn = dwarf_diename(&scopes[i]);
		free(scopes);
	}
	dl = dwarf_getsrc_die(cu, addr - bias);
	if (dl != NULL && dwarf_lineno(dl, line) == 0 && *line > 0)
		*file = dwarf_linesrc(dl, NULL, NULL);
}

int
mpa_symbol_frame(const struct mpa_frame *f, char *buf, size_t len)
{
	const struct mpa_module *mi;
	const char *mname, *fn = NULL, *file = NULL, *done;
	struct sym_module *m;
	int line = 0, w;

	if (buf == NULL || len == 0)
		return 0;
	mi = mpa_module_get(f->module);
	if (mi == NULL) {
		w = snprintf(buf, len, "0x%" PRIxPTR, f->pc);
		goto out;
	}
	mname = base_name(mi->path);

	pthread_mutex_lock(&sym_lock);
	done = memo_get(f->module, f->offset);
	if (done != NULL) {
		w = snprintf(buf, len, "%s", done);
		pthread_mutex_unlock(&sym_lock);
		goto out;
	}
	m = sym_open(mi->path);
	if (m != NULL && m->mod != NULL) {
		/* The call instruction, not the return address after it. */
		sym_lookup(m->mod, f->offset > 0 ? f->offset - 1 : 0, &fn,
			   &file, &line);
		/* Not a return address: a signal trampoline, whose caller
		 * "returns" to its first byte. */
		if (fn == NULL && f->offset > 0)
			sym_lookup(m->mod, f->offset, &fn, &file, &line);
	}
	if (fn != NULL && file != NULL)
		w = snprintf(buf, len, "%s (%s:%d)", fn, base_name(file), line);
	else if (fn != NULL)
		w = snprintf(buf, len, "%s (%s+0x%" PRIxPTR ")", fn, mname,
			     f->offset);
	else
		w = snprintf(buf, len, "%s+0x%" PRIxPTR, mname, f->offset);
	/* Only a whole rendering is worth keeping. */
	if (w >= 0 && (size_t)w < len)
		memo_put(f->module, f->offset, buf);
	pthread_mutex_unlock(&sym_lock);
out:
	if (w < 0) {
		buf[0] = '\0';
		return 0;
	}
	return (size_t)w < len ? w : (int)(len - 1);
}

void
mpa_symbol_reset(void)
{
	struct sym_module *m, *next;

	pthread_mutex_lock(&sym_lock);
	for (m = sym_modules; m != NULL; m = next) {
		next = m->next;
		if (m->dwfl != NULL)
			dwfl_end(m->dwfl);
		free(m->path);
		free(m);
	}
	sym_modules = NULL;
	for (uint32_t i = 0; i < memo_cap; i++)
		if (memo[i].module != UINT32_MAX)
			free(memo[i].text);
	free(memo);
	memo = NULL;
	memo_cap = memo_n = 0;
	pthread_mutex_unlock(&sym_lock);
}
