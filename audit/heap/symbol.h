/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#ifndef MPA_SYMBOL_H
#define MPA_SYMBOL_H

/*
 * Symbolisation of captured frames with elfutils libdw, for reports only
 * (never on an allocation path). Each module is opened from the path
 * recorded when its stack was captured, as an offline ELF file, so a
 * module that has since been dlclose()d still resolves; separate debug
 * info is found the standard way (build-id, /usr/lib/debug).
 *
 * A return address points after the call; the line looked up is that of
 * the call instruction (pc - 1).
 */

#include <stddef.h>

#include "stack.h"

/**
 * Format one frame as "function (file:line)" when the line is known,
 * "function (module+0xoff)" when only the symbol is, and "module+0xoff"
 * otherwise; file is the base name, module the base name of its path.
 * A frame in no known module is "0x<pc>". Takes a mutex; may allocate.
 *
 * @return the length written (truncated to @p len - 1).
 */
int mpa_symbol_frame(const struct mpa_frame *f, char *buf, size_t len);

/** Drop every opened module (after a report). */
void mpa_symbol_reset(void);

#endif /* MPA_SYMBOL_H */
