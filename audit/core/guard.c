/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

#include "guard.h"

/* initial-exec: read by the malloc interposers, which must not allocate
 * a TLS block on first use. */
__thread int mpa_guard_depth __attribute__((tls_model("initial-exec")));
