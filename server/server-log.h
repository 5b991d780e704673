/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* licensed-server's log: to the journal, structured, when its standard
 * error is the journal ($JOURNAL_STREAM names it, as under
 * licensed-server.service), else one "licensed-server: ..." line on
 * standard error. Events an operator alerts on carry a MESSAGE_ID;
 * systemd/licensed-server.catalog explains each one and docs/journal.md
 * lists them. */

#include <syslog.h>

#define SERVER_EVENT_STARTED "eb62b33ef5e0452cb105bb8afbc99c9a"
#define SERVER_EVENT_ACTIVATED "0f6c9e00163f4907a44ccc7cf803ca8f"
#define SERVER_EVENT_SEAT_LIMIT "ed236b0530c94edd8b44a28d0cb45491"
#define SERVER_EVENT_REVOKED_SEEN "a4e02fac24ce45958c1e837b47983038"
#define SERVER_EVENT_DATABASE_UNREACHABLE "1134014b6cbf443d80641a7c4ca8d59d"
/* For the admin API (issue 15): a missing, bad, expired or revoked token. */
#define SERVER_EVENT_TOKEN_REFUSED "ea28a2f7147941fc9786de84001497e5"
/* The customer portal (docs/portal.md): a customer released a machine. */
#define SERVER_EVENT_PORTAL_RELEASE "1f63f374cb184632b820f09aec71c22f"
/* The vendor reset a machine's trial (licensed-vendor trial reset). */
#define SERVER_EVENT_TRIAL_RESET "dd9b39d05f764fa79db54b6d736f0c7e"

/* The fields of an event, each left out when NULL. */
typedef struct ServerEventFields {
        const char *license_id;
        const char *license_key; /* masked, never in clear */
        const char *product;
        const char *machine_id;
        const char *hardware_id; /* a trial's (docs/protocol.md, "Trials") */
        const char *client;      /* the peer's address */
        const char *token_name;
        const char *error; /* what failed, for "database unreachable" */
} ServerEventFields;

/* Decides once, at start, between the journal and standard error. */
void server_log_init(void);

/* A request line or a note, at LOG_INFO; one line, thread-safe. */
void server_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One line at a syslog priority: LOG_INFO for requests, LOG_WARNING for
 * refusals an operator may want to see, LOG_ERR for failures. */
void server_log_at(int priority, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A failure at LOG_ERR; returns r, for "return server_log_error(r, ...)"
 * (report_error()'s use, without its "licensed-server: " in the journal). */
int server_log_error(int r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* An event with its MESSAGE_ID and fields (standard error: the message
 * and " [MESSAGE_ID=...]"). */
void server_event(const char *message_id, int priority, const ServerEventFields *f, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
