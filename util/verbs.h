/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Verb dispatch for the command-line tools, in the style of systemctl's:
 * "tool [GLOBAL OPTIONS] VERB [ARGS]". */

typedef int (*VerbFunc)(int argc, char *argv[], void *userdata);

typedef struct Verb {
        const char *name;
        int min_args; /* counting the verb itself */
        int max_args; /* VERB_ANY for no limit */
        VerbFunc func;
} Verb;

#define VERB_ANY (-1)

/* argv[0] is the verb. Returns the verb's result, or -EINVAL (after printing
 * a message to stderr) for an unknown verb or a wrong argument count. */
int dispatch_verb(const char *program, int argc, char *argv[], const Verb verbs[], void *userdata);
