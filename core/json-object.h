/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Reading JSON that crosses the network: the licensing server's answers in
 * the daemon and the requests in licensed-server. One strict parser for
 * both, so what one side refuses the other never sends, and so the fuzz
 * target (tests/fuzz/fuzz-server-json.c) exercises the code that runs. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* Nesting deeper than this is refused: no protocol message nests more than
 * three levels, and json-c recurses once per level. */
#define JSON_DEPTH_MAX 16

/* Parses body (len bytes; a NUL inside is refused, raw or as \u0000) as
 * exactly one JSON value, strict RFC 8259 with valid UTF-8 strings,
 * followed by nothing but whitespace. Returns 0 and *ret (the caller puts
 * it) if it is an object; -EDOM if it is valid JSON but not an object;
 * -EBADMSG if it is not JSON (empty, cut short, bad syntax or UTF-8, a NUL,
 * too deep, text after it);
 * -ENOMEM. err says which, naming the byte offset. */
int json_parse_object(const char *body, size_t len, json_object **ret, CoreError *err);

/* A string member of o. Returns 0 and *ret (NULL when absent or null, which
 * is an error only if required: -ENOENT), or -EBADMSG if present but not a
 * string. *ret points into o. */
int json_get_string(json_object *o, const char *name, bool required, const char **ret, CoreError *err);

/* The message of an error answer {"error": {"message": "..."}}, or NULL. */
const char *json_error_message(json_object *o);
/* Its code {"error": {"code": "..."}}, or NULL. */
const char *json_error_code(json_object *o);
