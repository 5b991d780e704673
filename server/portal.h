/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The customer portal of licensed-server, /portal (docs/portal.md): a
 * customer signs in with the license key and sees the entitlement and its
 * machines, releases a machine, downloads a machine's current license, and
 * finds the offline pages.
 *
 *   portal-session.c  the sessions: random ids, CSRF tokens, idle timeout,
 *                     a bounded table in memory
 *   portal-page.c     the HTML (escaped everywhere), the vendor's branding,
 *                     the stylesheet (portal.css) and the CSP
 *   portal-form.c     application/x-www-form-urlencoded bodies, cookies
 *   portal-http.c     the routes: sign in, sign out, release, download
 *
 * No script: every action is a form posted to the server, so the
 * Content-Security-Policy has no script source at all. */

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "error.h"
#include "license-key.h"
#include "server-ratelimit.h"
#include "storage.h"

#define PORTAL_IDLE_SEC_DEFAULT 900
#define PORTAL_RELEASE_LIMIT_DEFAULT 3
/* The window of --portal-release-limit. */
#define PORTAL_RELEASE_WINDOW_SEC (30 * 86400)
/* Signed-in sessions kept at once; the least recently used goes first. */
#define PORTAL_SESSIONS_MAX 4096
/* Sign-in attempts per client address: a burst, then one every so often.
 * Stricter than --rate-limit: each attempt is a guess at a key. */
#define PORTAL_SIGN_IN_BURST 10
#define PORTAL_SIGN_IN_RATE (1.0 / 30.0)

#define PORTAL_COOKIE "licensed_portal"
#define PORTAL_SIGN_IN_COOKIE "licensed_portal_sign_in"

/* The options of licensed-server (licensed-server(8), "Customer portal"). */
typedef struct PortalOptions {
        bool disabled;          /* --no-portal */
        const char *title;      /* --portal-title; NULL: "License portal" */
        const char *logo_url;   /* --portal-logo-url, https:// */
        const char *support;    /* --portal-support: an e-mail address or an https:// URL */
        const char *color;      /* --portal-color #rrggbb */
        unsigned idle_sec;      /* --portal-idle-timeout */
        unsigned release_limit; /* --portal-release-limit, per PORTAL_RELEASE_WINDOW_SEC; 0: none */
} PortalOptions;

/* Checks one option's value, with a sentence naming the option. */
int portal_check_color(const char *v, CoreError *err);
int portal_check_logo_url(const char *v, CoreError *err);
int portal_check_support(const char *v, CoreError *err);
int portal_check_title(const char *v, CoreError *err);

/* 256 random bits in lowercase hex, and its NUL. */
#define PORTAL_TOKEN_SIZE 65

typedef struct PortalSession {
        char id[PORTAL_TOKEN_SIZE];   /* the cookie */
        char csrf[PORTAL_TOKEN_SIZE]; /* the hidden field of every form */
        char key[LICENSE_KEY_STRING_SIZE];
        char notice[256];   /* said once on the next page (after a redirect) */
        uint64_t last_usec; /* CLOCK_MONOTONIC of the last request */
        bool used;
} PortalSession;

typedef struct PortalSessions {
        pthread_mutex_t lock;
        PortalSession *slots;
        size_t n;
        uint64_t idle_usec;
} PortalSessions;

int portal_random_token(char out[static PORTAL_TOKEN_SIZE]);
int portal_sessions_init(PortalSessions *t, size_t n, unsigned idle_sec);
void portal_sessions_done(PortalSessions *t);
/* A new session of key; the table's least recently used one makes room. */
int portal_session_create(PortalSessions *t, const char *key, uint64_t now_usec, PortalSession *ret);
/* The session of id, its notice taken (said once) and its idle time
 * reset: 0, -ENOENT (unknown: a restart, signed out, evicted) or
 * -ETIMEDOUT (idle too long; it is gone now). */
int portal_session_use(PortalSessions *t, const char *id, uint64_t now_usec, PortalSession *ret);
/* Sets the notice the next page of the session shows. */
void portal_session_notice(PortalSessions *t, const char *id, const char *notice);
void portal_session_remove(PortalSessions *t, const char *id);

typedef struct Portal {
        PortalOptions options;
        PortalSessions sessions;
        RateLimit *sign_in;
        char *style; /* portal.css and the vendor's colour */
        char *csp;
} Portal;

int portal_new(const PortalOptions *o, Portal **ret);
Portal *portal_free(Portal *p);

/* portal-form.c: the value of name in an application/x-www-form-urlencoded
 * body, decoded (NULL if absent); -EINVAL for a bad %-escape or a NUL
 * (escaped or not). The first field of that name counts. */
int portal_form_get(const char *body, size_t len, const char *name, char **ret);
/* The value of a hex digit of a %XX escape, or -1. */
int url_hex_digit(char c);
/* portal-http.c: whether a request path is the portal's: /portal, or
 * under /portal/. */
bool portal_path(const char *url);
/* Whether a Content-Type value is application/x-www-form-urlencoded. */
bool portal_content_type_is_form(const char *v);

/* portal-page.c: pages into f. */
extern const char portal_css[];
void portal_html_escape(FILE *f, const char *s);
/* The sign-in page: error (a sentence, or NULL), the sign-in form's token. */
void portal_page_sign_in(const Portal *p, FILE *f, const char *csrf, const char *error);
/* The entitlement's page of a session; with a release limit, releases_used
 * self-service releases in the window, the oldest at oldest_release
 * (storage_portal_releases()). */
void portal_page_entitlement(const Portal *p, FILE *f, const PortalSession *session, const Entitlement *e,
                             const Activation *a, size_t n_a, unsigned releases_used, int64_t oldest_release,
                             const char *error, int64_t now);
/* A page with only a sentence (and a link back). */
void portal_page_message(const Portal *p, FILE *f, const char *title, const char *message);
/* "2026-12-06 05:20 UTC" */
void portal_format_time(int64_t t, char buf[static 32]);
