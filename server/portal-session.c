/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The portal's sessions: in memory only, so a restart of licensed-server
 * signs everyone out (docs/portal.md says so). The table is bounded: a new
 * session takes a free slot, an idle-expired one, or else the least
 * recently used one, so a flood of sign-ins costs no memory, only
 * sessions. Ids and CSRF tokens are 256 random bits; a lookup compares
 * every slot's id with CRYPTO_memcmp(), so the time it takes says nothing
 * about how close a guessed id came. */

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "portal.h"

int portal_random_token(char out[static PORTAL_TOKEN_SIZE]) {
        unsigned char raw[32];

        if (RAND_bytes(raw, sizeof(raw)) != 1)
                return -EIO;
        for (size_t i = 0; i < sizeof(raw); i++)
                snprintf(out + 2 * i, 3, "%02x", raw[i]);
        OPENSSL_cleanse(raw, sizeof(raw));
        return 0;
}

int portal_sessions_init(PortalSessions *t, size_t n, unsigned idle_sec) {
        t->slots = calloc(n, sizeof(PortalSession));
        if (!t->slots)
                return -ENOMEM;
        t->n = n;
        t->idle_usec = (uint64_t) idle_sec * 1000000u;
        pthread_mutex_init(&t->lock, NULL);
        return 0;
}

void portal_sessions_done(PortalSessions *t) {
        if (!t->slots)
                return;
        OPENSSL_cleanse(t->slots, t->n * sizeof(PortalSession));
        free(t->slots);
        pthread_mutex_destroy(&t->lock);
        *t = (PortalSessions){};
}

static bool expired(const PortalSessions *t, const PortalSession *s, uint64_t now_usec) {
        return now_usec - s->last_usec > t->idle_usec;
}

/* The slot of id, or NULL; with the lock held. Every used slot is compared. */
static PortalSession *find(PortalSessions *t, const char *id) {
        PortalSession *found = NULL;

        if (strlen(id) != PORTAL_TOKEN_SIZE - 1)
                return NULL;
        for (size_t i = 0; i < t->n; i++)
                if (t->slots[i].used && CRYPTO_memcmp(t->slots[i].id, id, PORTAL_TOKEN_SIZE - 1) == 0)
                        found = &t->slots[i];
        return found;
}

int portal_session_create(PortalSessions *t, const char *key, uint64_t now_usec, PortalSession *ret) {
        PortalSession s = {.used = true, .last_usec = now_usec}, *slot = NULL;
        int r;

        r = portal_random_token(s.id);
        if (r >= 0)
                r = portal_random_token(s.csrf);
        if (r < 0)
                return r;
        snprintf(s.key, sizeof(s.key), "%s", key);

        pthread_mutex_lock(&t->lock);
        for (size_t i = 0; i < t->n; i++) {
                PortalSession *c = &t->slots[i];

                if (!c->used || expired(t, c, now_usec)) {
                        slot = c;
                        break;
                }
                if (!slot || c->last_usec < slot->last_usec)
                        slot = c;
        }
        *slot = s;
        pthread_mutex_unlock(&t->lock);
        *ret = s;
        OPENSSL_cleanse(&s, sizeof(s));
        return 0;
}

int portal_session_use(PortalSessions *t, const char *id, uint64_t now_usec, PortalSession *ret) {
        PortalSession *s;
        int r = 0;

        pthread_mutex_lock(&t->lock);
        s = find(t, id);
        if (!s)
                r = -ENOENT;
        else if (expired(t, s, now_usec)) {
                OPENSSL_cleanse(s, sizeof(*s));
                r = -ETIMEDOUT;
        } else {
                s->last_usec = now_usec;
                *ret = *s;
                s->notice[0] = 0;
        }
        pthread_mutex_unlock(&t->lock);
        return r;
}

void portal_session_notice(PortalSessions *t, const char *id, const char *notice) {
        PortalSession *s;

        pthread_mutex_lock(&t->lock);
        s = find(t, id);
        if (s)
                snprintf(s->notice, sizeof(s->notice), "%s", notice);
        pthread_mutex_unlock(&t->lock);
}

void portal_session_remove(PortalSessions *t, const char *id) {
        PortalSession *s;

        pthread_mutex_lock(&t->lock);
        s = find(t, id);
        if (s)
                OPENSSL_cleanse(s, sizeof(*s));
        pthread_mutex_unlock(&t->lock);
}
