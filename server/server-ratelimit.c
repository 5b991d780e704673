/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-address token buckets of server-ratelimit.h. One mutex guards
 * the table: a lookup is a hash and a scan of one set of WAYS entries, so
 * the lock is held for a few hundred nanoseconds; the hash is keyed with a
 * random seed so that nobody can aim a flood of addresses at one set. */

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>

#include "macro.h"
#include "server-ratelimit.h"

#define WAYS 8

typedef struct Bucket {
        uint8_t key[16]; /* IPv4 as ::ffff:a.b.c.d, IPv6 its /64 */
        bool used;
        double tokens;
        uint64_t last_usec;
} Bucket;

struct RateLimit {
        pthread_mutex_t lock;
        double rate; /* tokens a second */
        double burst;
        size_t sets; /* a power of two */
        uint64_t seed;
        size_t used;
        Bucket *buckets; /* sets * WAYS */
};

int ratelimit_new(double rate, unsigned burst, size_t slots, RateLimit **ret) {
        RateLimit *rl;
        size_t sets = 1;

        if (!(rate > 0) || burst < 1 || slots < 1)
                return -EINVAL;
        while (sets * WAYS < slots)
                sets <<= 1;
        rl = calloc(1, sizeof(*rl));
        if (!rl)
                return -ENOMEM;
        rl->buckets = calloc(sets * WAYS, sizeof(Bucket));
        if (!rl->buckets) {
                free(rl);
                return -ENOMEM;
        }
        if (getrandom(&rl->seed, sizeof(rl->seed), GRND_NONBLOCK) != sizeof(rl->seed))
                rl->seed = (uint64_t) (uintptr_t) rl ^ 0x9e3779b97f4a7c15ULL;
        pthread_mutex_init(&rl->lock, NULL);
        rl->rate = rate;
        rl->burst = burst;
        rl->sets = sets;
        *ret = rl;
        return 0;
}

RateLimit *ratelimit_free(RateLimit *rl) {
        if (!rl)
                return NULL;
        pthread_mutex_destroy(&rl->lock);
        free(rl->buckets);
        free(rl);
        return NULL;
}

static bool address_key(const struct sockaddr *sa, uint8_t key[static 16]) {
        memset(key, 0, 16);
        if (sa && sa->sa_family == AF_INET) {
                key[10] = key[11] = 0xff;
                memcpy(key + 12, &((const struct sockaddr_in *) sa)->sin_addr, 4);
                return true;
        }
        if (sa && sa->sa_family == AF_INET6) {
                const uint8_t *a = ((const struct sockaddr_in6 *) sa)->sin6_addr.s6_addr;
                /* An IPv4-mapped address is that IPv4 client, whole. */
                bool mapped = IN6_IS_ADDR_V4MAPPED((const struct in6_addr *) a);
                memcpy(key, a, mapped ? 16 : 8);
                return true;
        }
        return false;
}

/* splitmix64 over the key's two halves, keyed with the seed. */
static uint64_t mix(uint64_t x) {
        x += 0x9e3779b97f4a7c15ULL;
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

static size_t set_of(const RateLimit *rl, const uint8_t key[static 16]) {
        uint64_t hi, lo;

        memcpy(&hi, key, 8);
        memcpy(&lo, key + 8, 8);
        return (size_t) (mix(mix(hi ^ rl->seed) ^ lo) & (rl->sets - 1));
}

static void refill(const RateLimit *rl, Bucket *b, uint64_t now_usec) {
        if (now_usec > b->last_usec)
                b->tokens = fmin(rl->burst, b->tokens + (double) (now_usec - b->last_usec) * rl->rate / 1e6);
        b->last_usec = now_usec;
}

/* Whether b would be full again at now_usec: forgetting it loses nothing. */
static bool idle(const RateLimit *rl, const Bucket *b, uint64_t now_usec) {
        return now_usec >= b->last_usec &&
               b->tokens + (double) (now_usec - b->last_usec) * rl->rate / 1e6 >= rl->burst;
}

/* The bucket of key in its set, or the place a new one takes: a free one,
 * an idle one, else the one seen least recently. */
static Bucket *find(RateLimit *rl, const uint8_t key[static 16], uint64_t now_usec) {
        Bucket *set = rl->buckets + set_of(rl, key) * WAYS, *victim = NULL;

        for (size_t i = 0; i < WAYS; i++)
                if (set[i].used && memcmp(set[i].key, key, 16) == 0) {
                        refill(rl, &set[i], now_usec);
                        return &set[i];
                }
        for (size_t i = 0; i < WAYS && !victim; i++)
                if (!set[i].used || idle(rl, &set[i], now_usec))
                        victim = &set[i];
        if (!victim) {
                victim = &set[0];
                for (size_t i = 1; i < WAYS; i++)
                        if (set[i].last_usec < victim->last_usec)
                                victim = &set[i];
        }
        if (!victim->used)
                rl->used++;
        *victim = (Bucket){.used = true, .tokens = rl->burst, .last_usec = now_usec};
        memcpy(victim->key, key, 16);
        return victim;
}

/* Whether the client at sa has a token; if so, takes cost of them (0 or 1). */
static bool take(RateLimit *rl, const struct sockaddr *sa, uint64_t now_usec, unsigned cost,
                 unsigned *ret_retry_after) {
        uint8_t key[16];
        Bucket *b;
        bool ok;

        if (!address_key(sa, key))
                return true;
        pthread_mutex_lock(&rl->lock);
        b = find(rl, key, now_usec);
        ok = b->tokens >= 1;
        if (ok)
                b->tokens -= cost;
        else
                *ret_retry_after = (unsigned) fmax(1, ceil((1 - b->tokens) / rl->rate));
        pthread_mutex_unlock(&rl->lock);
        return ok;
}

bool ratelimit_take(RateLimit *rl, const struct sockaddr *sa, uint64_t now_usec, unsigned *ret_retry_after) {
        return take(rl, sa, now_usec, 1, ret_retry_after);
}

bool ratelimit_check(RateLimit *rl, const struct sockaddr *sa, uint64_t now_usec, unsigned *ret_retry_after) {
        return take(rl, sa, now_usec, 0, ret_retry_after);
}

size_t ratelimit_used(RateLimit *rl) {
        size_t n;

        pthread_mutex_lock(&rl->lock);
        n = rl->used;
        pthread_mutex_unlock(&rl->lock);
        return n;
}

size_t ratelimit_capacity(RateLimit *rl) {
        return rl->sets * WAYS;
}

int ratelimit_parse_rate(const char *text, double *ret, CoreError *err) {
        const char *slash = strchr(text, '/');
        char *end;
        double n;

        if (streq(text, "off")) {
                *ret = 0;
                return 0;
        }
        errno = 0;
        n = strtod(text, &end);
        if (!slash || end != slash || errno || !(n > 0) || !isfinite(n) || !(streq(slash, "/s") ||
                                                                           streq(slash, "/min")))
                return core_error_set(err, EINVAL,
                                      "--rate-limit: '%s' is not RATE/s, RATE/min (RATE > 0) or off", text);
        *ret = streq(slash, "/min") ? n / 60 : n;
        return 0;
}
