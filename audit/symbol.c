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
	const char *mname, *fn = NULL, *file = NULL;
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
	pthread_mutex_unlock(&sym_lock);
}
