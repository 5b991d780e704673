/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "verbs.h"

int dispatch_verb(const char *program, int argc, char *argv[], const Verb verbs[], void *userdata) {
        if (argc < 1) {
                fprintf(stderr, "%s: a command is needed; see '%s --help'.\n", program, program);
                return -EINVAL;
        }
        for (const Verb *v = verbs; v->name; v++) {
                if (strcmp(v->name, argv[0]) != 0)
                        continue;
                if (argc < v->min_args) {
                        fprintf(stderr, "%s %s: too few arguments; see '%s --help'.\n", program, argv[0], program);
                        return -EINVAL;
                }
                if (v->max_args != VERB_ANY && argc > v->max_args) {
                        fprintf(stderr, "%s %s: too many arguments; see '%s --help'.\n", program, argv[0],
                                program);
                        return -EINVAL;
                }
                return v->func(argc, argv, userdata);
        }
        fprintf(stderr, "%s: unknown command '%s'; see '%s --help'.\n", program, argv[0], program);
        return -EINVAL;
}
