/* SPDX-License-Identifier: BSD-3-Clause
 * Copyright (c) 2026 The mpaudit developers
 */

/*
 * A module for test_stack.c to dlopen(), capture inside, and dlclose()
 * before symbolising. Built twice: with -g (file:line known) and without
 * (symbol only). The line of the call is returned so that the test's
 * expectation does not hard-code it.
 */

#include <stdint.h>

typedef uint32_t (*stackmod_cb)(void);

uint32_t stackmod_capture(stackmod_cb cb, int *line);

uint32_t
stackmod_capture(stackmod_cb cb, int *line)
{
	uint32_t id = cb(); *line = __LINE__;

	return id;
}
