/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The one error printer of the command-line programs (licensectl,
 * licensed-vendor, licensed-server, and licensed's command line): reports
 * "PROGRAM: MESSAGE" on stderr, PROGRAM being the name the program was run
 * as (program_invocation_short_name), so that every tool words its errors
 * the same way and the tests can match them. */

#include "macro.h"

/* Prints the message and returns r unchanged, so that
 * "return report_error(-EINVAL, ...)" (or an exit status) is one line. %m
 * is errno at the call. The line is written with one call, so that threads
 * (licensed-server's) do not interleave their lines. */
int report_error(int r, const char *fmt, ...) _printf_(2, 3);
