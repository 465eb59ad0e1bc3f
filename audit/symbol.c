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
 * Function name at @p addr: the symbol table's, else the DWARF subprogram
 * enclosing it (a symbol table stripped without separate debug info).
 */
static const char *
sym_function(Dwfl_Module *mod, Dwarf_Addr addr)
{
	GElf_Off off;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(mod, addr, &off, &sym, NULL,
						NULL, NULL);
	Dwarf_Addr bias;
	Dwarf_Die *cu;
	Dwarf_Die *scopes = NULL;
	int n;

	if (name != NULL && name[0] != '\0')
		return name;
	cu = dwfl_module_addrdie(mod, addr, &bias);
	if (cu == NULL)
		return NULL;
	n = dwarf_getscopes(cu, addr - bias, &scopes);
	name = NULL;
	for (int i = 0; i < n && name == NULL; i++)
		if (dwarf_tag(&scopes[i]) == DW_TAG_subprogram)
			name = dwarf_diename(&scopes[i]);
	free(scopes);
	return name;
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
		Dwarf_Addr a = f->offset > 0 ? f->offset - 1 : 0;
		Dwfl_Line *dl = dwfl_module_getsrc(m->mod, a);

		fn = sym_function(m->mod, a);
		if (fn != NULL && dl != NULL) {
			file = dwfl_lineinfo(dl, NULL, &line, NULL, NULL, NULL);
			if (line <= 0)
				file = NULL;
		}
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
