/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The start image's file format (start-image.h). Read as if hostile, like
 * verified.cache: the whole file is checked (size, checksum, every record
 * walked without allocating) before the first license is built from it, so
 * a damaged image costs a full load and never half a set. */

#include <assert.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "start-image.h"
#include "text-check.h"

#define HEADER_SIZE (8 + 4 * 8 + START_IMAGE_MADE_FROM_SIZE + 8)
#define CHECK_SIZE SHA256_DIGEST_LENGTH
#define STRING_NULL UINT16_C(0xffff)

_Static_assert(sizeof(START_IMAGE_MAGIC) - 1 == 8, "the magic is 8 bytes");
_Static_assert(START_IMAGE_STRING_MAX < STRING_NULL, "a string's length never reads as NULL");

/* Writing ----------------------------------------------------------------- */

static void put(StartImageWriter *w, const void *p, size_t n) {
        if (w->error < 0)
                return;
        if (w->size + n > START_IMAGE_MAX_SIZE) {
                w->error = -E2BIG;
                return;
        }
        if (w->size + n > w->allocated) {
                size_t want = w->allocated ? w->allocated * 2 : 4096;
                uint8_t *b;

                while (want < w->size + n)
                        want *= 2;
                b = realloc(w->buf, want);
                if (!b) {
                        w->error = -ENOMEM;
                        return;
                }
                w->buf = b;
                w->allocated = want;
        }
        memcpy(w->buf + w->size, p, n);
        w->size += n;
}

#define PUT(w, v)                                                                                           \
        do {                                                                                                \
                __typeof__(v) _v = (v);                                                                     \
                put(w, &_v, sizeof(_v));                                                                    \
        } while (0)

static void put_string(StartImageWriter *w, const char *s) {
        size_t n;

        if (!s) {
                PUT(w, (uint16_t) STRING_NULL);
                return;
        }
        n = strlen(s);
        if (n > START_IMAGE_STRING_MAX) {
                if (w->error >= 0)
                        w->error = -EINVAL;
                return;
        }
        PUT(w, (uint16_t) n);
        put(w, s, n);
}

void start_image_writer_begin(StartImageWriter *w, const StartImageSource *src) {
        assert(w);
        assert(src);

        *w = (StartImageWriter) {};
        put(w, START_IMAGE_MAGIC, 8);
        PUT(w, src->dev);
        PUT(w, src->ino);
        PUT(w, src->mtime_ns);
        PUT(w, src->ctime_ns);
        put(w, src->made_from, START_IMAGE_MADE_FROM_SIZE);
        PUT(w, (uint64_t) 0); /* the count, set by finish */
}

void start_image_writer_add(StartImageWriter *w, const uint8_t digest[static START_IMAGE_DIGEST_SIZE],
                            const License *l, const LicenseState *st) {
        assert(w);
        assert(l);
        assert(st);

        if (w->count >= START_IMAGE_MAX_RECORDS || l->n_features > LICENSE_FEATURES_MAX ||
            l->n_properties > LICENSE_PROPERTIES_MAX || l->type < 0 || l->type >= _LICENSE_TYPE_MAX) {
                if (w->error >= 0)
                        w->error = -EINVAL;
                return;
        }
        put(w, digest, START_IMAGE_DIGEST_SIZE);
        PUT(w, l->revision);
        PUT(w, (uint32_t) l->type);
        PUT(w, l->issued);
        PUT(w, l->not_before);
        PUT(w, l->not_after);
        PUT(w, l->maintenance_until);
        PUT(w, l->validation_interval);
        PUT(w, l->grace_period);
        PUT(w, st->installed);
        PUT(w, st->last_validation);
        PUT(w, st->last_attempt);
        PUT(w, st->warned_days_left);
        PUT(w, (uint8_t) !!st->revoked);
        PUT(w, (uint16_t) l->n_features);
        PUT(w, (uint16_t) l->n_properties);
        put_string(w, l->id);
        put_string(w, l->product);
        put_string(w, l->licensee);
        put_string(w, l->key);
        put_string(w, l->machine_id);
        put_string(w, l->device_key);
        put_string(w, l->nonce);
        put_string(w, l->server_url);
        put_string(w, st->validation_nonce);
        put_string(w, st->last_error);
        put_string(w, st->announced);
        for (size_t i = 0; i < l->n_features; i++) {
                put_string(w, l->features[i].name);
                PUT(w, l->features[i].expires);
                PUT(w, l->features[i].limit);
        }
        for (size_t i = 0; i < l->n_properties; i++) {
                put_string(w, l->properties[i].name);
                put_string(w, l->properties[i].value);
        }
        w->count++;
}

void start_image_writer_done(StartImageWriter *w) {
        if (!w)
                return;
        free(w->buf);
        *w = (StartImageWriter) {};
}

int start_image_writer_finish(StartImageWriter *w, void **ret, size_t *ret_size) {
        uint8_t check[CHECK_SIZE];
        int r;

        assert(w);
        assert(ret);
        assert(ret_size);

        if (w->error >= 0 && w->size >= HEADER_SIZE) {
                memcpy(w->buf + HEADER_SIZE - 8, &w->count, sizeof(w->count));
                SHA256(w->buf, w->size, check);
                put(w, check, sizeof(check));
        }
        r = w->error < 0 ? w->error : w->size < HEADER_SIZE ? -ENOMEM : 0;
        if (r < 0) {
                start_image_writer_done(w);
                return r;
        }
        *ret = TAKE_PTR(w->buf);
        *ret_size = w->size;
        start_image_writer_done(w);
        return 0;
}

/* Reading ----------------------------------------------------------------- */

typedef struct Reader {
        const uint8_t *p;
        size_t left;
        bool build; /* false: only check; true: also allocate what is read */
} Reader;

static bool get(Reader *r, void *out, size_t n) {
        if (r->left < n)
                return false;
        memcpy(out, r->p, n);
        r->p += n;
        r->left -= n;
        return true;
}

/* A string: NULL allowed or not, at most max bytes, no NUL inside. Copied
 * to *ret (malloc'd) when building, and always to check (when given, of
 * check_size bytes) so the caller can judge it. */
typedef enum StringCheck {
        STRING_ANY,
        STRING_LICENSE_ID,
        STRING_PRODUCT_ID,
        STRING_NAME, /* a feature or property name */
} StringCheck;

static int get_string(Reader *r, bool nullable, size_t max, StringCheck kind, char **ret) {
        char small[LICENSE_ID_MAX + 128 + 2];
        uint16_t n;

        if (!get(r, &n, sizeof(n)))
                return -EBADMSG;
        if (n == STRING_NULL) {
                if (!nullable)
                        return -EBADMSG;
                if (ret)
                        *ret = NULL;
                return 0;
        }
        if (n > max || n > START_IMAGE_STRING_MAX || r->left < n || memchr(r->p, 0, n))
                return -EBADMSG;
        if (kind != STRING_ANY) {
                bool ok;

                if (n >= sizeof(small))
                        return -EBADMSG;
                memcpy(small, r->p, n);
                small[n] = 0;
                ok = kind == STRING_LICENSE_ID   ? identifier_is_valid(small, LICENSE_ID_MAX)
                     : kind == STRING_PRODUCT_ID ? product_id_is_valid(small)
                                                 : license_name_is_valid(small);
                if (!ok)
                        return -EBADMSG;
        }
        if (r->build && ret) {
                char *s = malloc(n + 1);
                if (!s)
                        return -ENOMEM;
                memcpy(s, r->p, n);
                s[n] = 0;
                *ret = s;
        }
        r->p += n;
        r->left -= n;
        return 0;
}

/* Into a fixed array of size bytes (never NULL). */
static int get_inline(Reader *r, char *out, size_t size) {
        const uint8_t *at = r->p + sizeof(uint16_t);
        uint16_t n;
        int k;

        if (r->left < sizeof(n))
                return -EBADMSG;
        memcpy(&n, r->p, sizeof(n));
        k = get_string(r, false, size - 1, STRING_ANY, NULL);
        if (k < 0)
                return k;
        memcpy(out, at, n);
        out[n] = 0;
        return 0;
}

static int read_record(Reader *r, uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, LicenseState *st) {
        uint32_t type;
        uint16_t n_features, n_properties;
        uint8_t revoked;
        int k;

        if (!get(r, digest, START_IMAGE_DIGEST_SIZE) || !get(r, &l->revision, sizeof(l->revision)) ||
            !get(r, &type, sizeof(type)) || !get(r, &l->issued, sizeof(l->issued)) ||
            !get(r, &l->not_before, sizeof(l->not_before)) || !get(r, &l->not_after, sizeof(l->not_after)) ||
            !get(r, &l->maintenance_until, sizeof(l->maintenance_until)) ||
            !get(r, &l->validation_interval, sizeof(l->validation_interval)) ||
            !get(r, &l->grace_period, sizeof(l->grace_period)) || !get(r, &st->installed, sizeof(st->installed)) ||
            !get(r, &st->last_validation, sizeof(st->last_validation)) ||
            !get(r, &st->last_attempt, sizeof(st->last_attempt)) ||
            !get(r, &st->warned_days_left, sizeof(st->warned_days_left)) || !get(r, &revoked, sizeof(revoked)) ||
            !get(r, &n_features, sizeof(n_features)) || !get(r, &n_properties, sizeof(n_properties)))
                return -EBADMSG;
        if (type >= _LICENSE_TYPE_MAX || revoked > 1 || n_features > LICENSE_FEATURES_MAX ||
            n_properties > LICENSE_PROPERTIES_MAX)
                return -EBADMSG;
        l->type = (LicenseType) type;
        st->revoked = revoked;

        if ((k = get_string(r, false, LICENSE_ID_MAX, STRING_LICENSE_ID, &l->id)) < 0 ||
            (k = get_string(r, false, 128, STRING_PRODUCT_ID, &l->product)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->licensee)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->key)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->machine_id)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->device_key)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->nonce)) < 0 ||
            (k = get_string(r, true, START_IMAGE_STRING_MAX, STRING_ANY, &l->server_url)) < 0 ||
            (k = get_inline(r, st->validation_nonce, sizeof(st->validation_nonce))) < 0 ||
            (k = get_string(r, true, LICENSE_STATE_ERROR_MAX, STRING_ANY, &st->last_error)) < 0 ||
            (k = get_inline(r, st->announced, sizeof(st->announced))) < 0)
                return k;

        if (r->build && n_features > 0) {
                l->features = calloc(n_features, sizeof(LicenseFeature));
                if (!l->features)
                        return -ENOMEM;
                l->n_features = n_features; /* freed with what is filled in so far */
        }
        for (size_t i = 0; i < n_features; i++) {
                LicenseFeature f = {};
                if ((k = get_string(r, false, LICENSE_FEATURE_NAME_MAX, STRING_NAME, &f.name)) < 0)
                        return k;
                if (r->build)
                        l->features[i].name = f.name;
                if (!get(r, &f.expires, sizeof(f.expires)) || !get(r, &f.limit, sizeof(f.limit)))
                        return -EBADMSG;
                if (r->build) {
                        l->features[i].expires = f.expires;
                        l->features[i].limit = f.limit;
                }
        }
        if (r->build && n_properties > 0) {
                l->properties = calloc(n_properties, sizeof(LicenseProperty));
                if (!l->properties)
                        return -ENOMEM;
                l->n_properties = n_properties;
        }
        for (size_t i = 0; i < n_properties; i++) {
                LicenseProperty p = {};
                if ((k = get_string(r, false, LICENSE_FEATURE_NAME_MAX, STRING_NAME, &p.name)) < 0)
                        return k;
                if (r->build)
                        l->properties[i].name = p.name;
                if ((k = get_string(r, false, START_IMAGE_STRING_MAX, STRING_ANY, &p.value)) < 0)
                        return k;
                if (r->build)
                        l->properties[i].value = p.value;
        }
        return 0;
}

static int walk(const uint8_t *p, size_t size, uint64_t count, bool build, StartImageFunc f, void *userdata) {
        Reader r = {.p = p + HEADER_SIZE, .left = size - HEADER_SIZE - CHECK_SIZE, .build = build};

        for (uint64_t i = 0; i < count; i++) {
                uint8_t digest[START_IMAGE_DIGEST_SIZE];
                _cleanup_(license_done) License l = LICENSE_INIT;
                LicenseState st = {};
                int k;

                k = read_record(&r, digest, &l, &st);
                if (k >= 0 && build) {
                        k = f(digest, &l, &st, userdata);
                        st.last_error = NULL; /* the callee's now, whatever it returned */
                }
                if (!build)
                        license_init(&l); /* nothing was allocated */
                free(st.last_error);
                if (k < 0)
                        return k;
        }
        return r.left == 0 ? 0 : -EBADMSG;
}

static void read_source(const uint8_t *p, StartImageSource *src) {
        memcpy(&src->dev, p + 8, 8);
        memcpy(&src->ino, p + 16, 8);
        memcpy(&src->mtime_ns, p + 24, 8);
        memcpy(&src->ctime_ns, p + 32, 8);
        memcpy(src->made_from, p + 40, START_IMAGE_MADE_FROM_SIZE);
}

int start_image_peek(const void *data, size_t size, StartImageSource *ret) {
        assert(data || size == 0);
        assert(ret);

        if (size < HEADER_SIZE + CHECK_SIZE || memcmp(data, START_IMAGE_MAGIC, 8) != 0)
                return -EBADMSG;
        read_source(data, ret);
        return 0;
}

int start_image_parse(const void *data, size_t size, StartImageSource *ret_src, uint64_t *ret_count,
                      StartImageFunc f, void *userdata) {
        const uint8_t *p = data;
        uint8_t check[CHECK_SIZE];
        StartImageSource src = {};
        uint64_t count;
        int r;

        assert(data || size == 0);

        if (size < HEADER_SIZE + CHECK_SIZE || size > START_IMAGE_MAX_SIZE + CHECK_SIZE ||
            memcmp(p, START_IMAGE_MAGIC, 8) != 0)
                return -EBADMSG;
        SHA256(p, size - CHECK_SIZE, check);
        if (memcmp(check, p + size - CHECK_SIZE, CHECK_SIZE) != 0)
                return -EBADMSG;
        read_source(p, &src);
        memcpy(&count, p + 40 + START_IMAGE_MADE_FROM_SIZE, 8);
        if (count > START_IMAGE_MAX_RECORDS)
                return -EBADMSG;
        r = walk(p, size, count, false, NULL, NULL);
        if (r < 0)
                return r;
        if (f) {
                r = walk(p, size, count, true, f, userdata);
                if (r < 0)
                        return r;
        }
        if (ret_src)
                *ret_src = src;
        if (ret_count)
                *ret_count = count;
        return 0;
}
