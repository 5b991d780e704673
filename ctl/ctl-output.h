/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What licensectl prints: tables, colours, the pager, JSON, times, and the
 * armored documents that leave the machine. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

#include "licensectl.h"
#include "table.h"

/* ---- colours: only when stdout is a terminal and $NO_COLOR is unset ---- */

/* Decided once, before the pager takes stdout. */
bool colors_enabled(void);
const char *ansi_highlight(void);
const char *ansi_normal(void);
/* Green for licensed/ok, yellow for grace/skipped, red for the rest of the
 * reasons and outcomes; "" without colours or for unknown words. */
const char *status_color(const char *status);

/* A sentence for a reason of CheckFeature (also the status of a license);
 * NULL for a word licensed does not define. */
const char *reason_description(const char *reason);

static inline bool reason_is_known(const char *reason) {
        return reason_description(reason) != NULL;
}

/* ---- pager: only for a terminal, and never with --no-pager ---- */

void pager_open(const Ctl *c);
void pager_close(void);

/* ---- times: D-Bus gives µs since the epoch, 0 = unset ---- */

#define CTL_TIME_MAX 96

/* "2027-12-31 00:00:00 UTC (in 583 days)", or unset for 0. */
const char *format_timestamp(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset);
/* "2027-12-31", or unset for 0. */
const char *format_date(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset);
/* "14d", "12h", or unset for 0. */
const char *format_duration(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset);
/* RFC 3339 string, or JSON null for 0. */
json_object *json_timestamp(uint64_t usec);
/* A JSON string, or JSON null for NULL. */
json_object *json_string_or_null(const char *s);

/* {"id": id} with --json, to carry a document; NULL without. */
json_object *json_for_id(const Ctl *c, const char *id);

/* Prints o pretty-printed on stdout and frees it. */
int json_print(json_object *o);

/* ---- "Label: value" lines, as in hostnamectl ---- */

/* "%*s: value" with the label right-aligned to width; label NULL continues
 * the field above on a new line. color: an ANSI sequence, "" or NULL. */
void print_field(int width, const char *label, const char *color, const char *fmt, ...) _printf_(4, 5);

/* ---- documents ---- */

/* Writes text, an armored document called what ("activation request"), to
 * c->output atomically and says so on stdout, or to stdout if c->output is
 * NULL or "-". Documents holding a license key are written 0600. If the
 * file cannot be written the document goes to stdout after the error, so
 * that a proof the daemon made only once is not lost. Returns an exit
 * status. */
int ctl_write_document(const Ctl *c, const char *text, const char *what, bool secret);

/* Emits a document licensed made. With --json: adds it to o as json_key
 * (null if empty) and prints o, writing --output FILE as well if given;
 * otherwise as ctl_write_document(), nothing if text is empty. o is NULL
 * without --json. Returns an exit status. */
int ctl_emit_document(const Ctl *c, json_object *o, const char *json_key, const char *text, const char *what,
                      bool secret);

/* Draws text as a QR code in UTF-8 half blocks (ctl-qr.c). Returns its
 * width in columns, -ERANGE if text is too long for a QR code, or -E2BIG
 * (printing nothing) if fit_terminal and f is a narrower terminal. */
int print_qr_code(FILE *f, const char *text, bool fit_terminal);

/* ---- the offline page (ctl-offline.c) ---- */

/* The offline page's URL carrying document (a machine document) in its
 * fragment: page + "#request=K.KEYID.SIGNATURE.BODY". -EMEDIUMTYPE if it
 * is not a machine document. */
int offline_request_url(const char *page, const char *document, char **ret);

/* The offline page of the product license id belongs to (the product's
 * offline_url), *ret NULL if it has none. Returns an exit status. */
int offline_page_of_license(Ctl *c, const char *id, char **ret);

/* With --json, an object with "id" (unless id is NULL), "url" (the page)
 * and "request_url" (the page carrying document), null without a page;
 * NULL without --json. */
json_object *offline_json(const Ctl *c, const char *id, const char *page, const char *document);

/* After a machine document was written: the link to the offline page
 * carrying it and its QR code (as --qr says), or without a page the
 * document itself as a QR code. what: "activation request", ... Returns an
 * exit status. */
int offline_print_way_out(const Ctl *c, const char *page, const char *document, const char *what);

/* Whether a document went to stdout: the instructions then go to stderr,
 * so "licensectl ... >request.txt" keeps the document clean. */
static inline FILE *instructions_stream(const char *output_path) {
        return output_path && !streq(output_path, "-") ? stdout : stderr;
}
