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
} Reader;

static bool get(Reader *r, void *out, size_t n) {
        if (r->left < n)
                return false;
        memcpy(out, r->p, n);
        r->p += n;
        r->left -= n;
        return true;
}

/* A string as it is in the file: n bytes at p, or NULL. */
typedef struct View {
        const char *p;
        uint16_t n;
        bool null;
} View;

typedef enum StringCheck {
        STRING_ANY,
        STRING_LICENSE_ID,
        STRING_PRODUCT_ID,
        STRING_NAME, /* a feature or property name */
} StringCheck;

/* A string: NULL allowed or not, at most max bytes, no NUL inside, and
 * of its kind. */
static int get_string(Reader *r, bool nullable, size_t max, StringCheck kind, View *ret) {
        char small[LICENSE_ID_MAX + 128 + 2];
        uint16_t n;

        if (!get(r, &n, sizeof(n)))
                return -EBADMSG;
        if (n == STRING_NULL) {
                if (!nullable)
                        return -EBADMSG;
                *ret = (View) {.null = true};
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
        *ret = (View) {.p = (const char *) r->p, .n = n};
        r->p += n;
        r->left -= n;
        return 0;
}

/* The strings of a record, in file order. */
enum {
        S_ID, S_PRODUCT, S_LICENSEE, S_KEY, S_MACHINE_ID, S_DEVICE_KEY, S_NONCE, S_SERVER_URL,
        S_VALIDATION_NONCE, S_LAST_ERROR, S_ANNOUNCED,
        _S_MAX,
};

typedef struct Record {
        View strings[_S_MAX];
        View feature_names[LICENSE_FEATURES_MAX];
        View property_names[LICENSE_PROPERTIES_MAX], property_values[LICENSE_PROPERTIES_MAX];
} Record;

/* Reads and checks one record: the scalars into l and st, the strings as
 * views into rec. Allocates nothing. */
static int read_record(Reader *r, uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, LicenseState *st,
                       Record *rec, LicenseFeature *features) {
        static const struct {
                bool nullable;
                size_t max;
                StringCheck kind;
        } string_rules[_S_MAX] = {
                [S_ID] = {false, LICENSE_ID_MAX, STRING_LICENSE_ID},
                [S_PRODUCT] = {false, 128, STRING_PRODUCT_ID},
                [S_LICENSEE] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_KEY] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_MACHINE_ID] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_DEVICE_KEY] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_NONCE] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_SERVER_URL] = {true, START_IMAGE_STRING_MAX, STRING_ANY},
                [S_VALIDATION_NONCE] = {false, LICENSE_NONCE_HEX_LEN, STRING_ANY},
                [S_LAST_ERROR] = {true, LICENSE_STATE_ERROR_MAX, STRING_ANY},
                [S_ANNOUNCED] = {false, sizeof(st->announced) - 1, STRING_ANY},
        };
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
        l->n_features = n_features;
        l->n_properties = n_properties;

        for (size_t i = 0; i < _S_MAX; i++) {
                k = get_string(r, string_rules[i].nullable, string_rules[i].max, string_rules[i].kind,
                               &rec->strings[i]);
                if (k < 0)
                        return k;
        }
        for (size_t i = 0; i < n_features; i++) {
                k = get_string(r, false, LICENSE_FEATURE_NAME_MAX, STRING_NAME, &rec->feature_names[i]);
                if (k < 0)
                        return k;
                if (!get(r, &features[i].expires, sizeof(features[i].expires)) ||
                    !get(r, &features[i].limit, sizeof(features[i].limit)))
                        return -EBADMSG;
        }
        for (size_t i = 0; i < n_properties; i++) {
                k = get_string(r, false, LICENSE_FEATURE_NAME_MAX, STRING_NAME, &rec->property_names[i]);
                if (k < 0)
                        return k;
                k = get_string(r, false, START_IMAGE_STRING_MAX, STRING_ANY, &rec->property_values[i]);
                if (k < 0)
                        return k;
        }
        return 0;
}

static const char *find_shared(const View *v, const char *const *shared) {
        for (size_t i = 0; shared && shared[i]; i++)
                if (strlen(shared[i]) == v->n && memcmp(shared[i], v->p, v->n) == 0)
                        return shared[i];
        return NULL;
}

static const Product *find_product(const ProductSet *products, const View *v) {
        for (size_t i = 0; i < products->n_products; i++) {
                const char *id = products->products[i].id;
                if (strlen(id) == v->n && memcmp(id, v->p, v->n) == 0)
                        return &products->products[i];
        }
        return NULL;
}

/* What license_compact() would have made, in one allocation and without
 * a string allocated on the way: the arrays, then every string that is
 * not shared. */
typedef struct Arena {
        char *base;
        size_t off;
} Arena;

static char *place(Arena *a, const View *v, const char *const *shared, bool count_only) {
        const char *s;
        char *at;

        if (v->null)
                return NULL;
        s = find_shared(v, shared);
        if (s)
                return (char *) s;
        at = count_only ? NULL : a->base + a->off;
        if (!count_only) {
                memcpy(at, v->p, v->n);
                at[v->n] = 0;
        }
        a->off += v->n + 1;
        return at;
}

static char **license_slot(License *l, size_t i) {
        switch (i) {
        case S_ID: return &l->id;
        case S_PRODUCT: return &l->product;
        case S_LICENSEE: return &l->licensee;
        case S_KEY: return &l->key;
        case S_MACHINE_ID: return &l->machine_id;
        case S_DEVICE_KEY: return &l->device_key;
        case S_NONCE: return &l->nonce;
        case S_SERVER_URL: return &l->server_url;
        default: return NULL;
        }
}

static int build(const Record *rec, const LicenseFeature *features, const StartImageShared *sh, License *l,
                 LicenseState *st, const Product **ret_product) {
        size_t arrays = l->n_features * sizeof(LicenseFeature) + l->n_properties * sizeof(LicenseProperty);
        const Product *p = NULL;
        Arena a = {.off = arrays};

        if (sh->products) {
                p = find_product(sh->products, &rec->strings[S_PRODUCT]);
                if (!p)
                        return -EBADMSG;
        }
        /* Twice: first the size, then the copy. */
        for (int pass = 0; pass < 2; pass++) {
                bool count_only = pass == 0;

                a.off = arrays;
                for (size_t i = 0; i < _S_MAX; i++) {
                        char **slot = license_slot(l, i);
                        char *s;

                        if (!slot)
                                continue;
                        s = i == S_PRODUCT && p ? p->id : place(&a, &rec->strings[i], sh->shared, count_only);
                        if (!count_only)
                                *slot = s;
                }
                for (size_t i = 0; i < l->n_features; i++) {
                        char *s = place(&a, &rec->feature_names[i], NULL, count_only);
                        if (!count_only)
                                l->features[i] = (LicenseFeature) {
                                        .name = s, .expires = features[i].expires, .limit = features[i].limit};
                }
                for (size_t i = 0; i < l->n_properties; i++) {
                        char *n = place(&a, &rec->property_names[i], NULL, count_only),
                             *v = place(&a, &rec->property_values[i], NULL, count_only);
                        if (!count_only)
                                l->properties[i] = (LicenseProperty) {.name = n, .value = v};
                }
                if (count_only) {
                        a.base = malloc(a.off ?: 1);
                        if (!a.base)
                                return -ENOMEM;
                        l->arena = a.base;
                        l->features = l->n_features ? (LicenseFeature *) a.base : NULL;
                        l->properties = l->n_properties ? (LicenseProperty *) (a.base + l->n_features *
                                                                                             sizeof(LicenseFeature))
                                                        : NULL;
                }
        }
        memcpy(st->validation_nonce, rec->strings[S_VALIDATION_NONCE].p, rec->strings[S_VALIDATION_NONCE].n);
        st->validation_nonce[rec->strings[S_VALIDATION_NONCE].n] = 0;
        memcpy(st->announced, rec->strings[S_ANNOUNCED].p, rec->strings[S_ANNOUNCED].n);
        st->announced[rec->strings[S_ANNOUNCED].n] = 0;
        if (!rec->strings[S_LAST_ERROR].null &&
            !(st->last_error = strndup(rec->strings[S_LAST_ERROR].p, rec->strings[S_LAST_ERROR].n)))
                return -ENOMEM;
        *ret_product = p;
        return 0;
}

static int walk(const uint8_t *p, size_t size, uint64_t count, const StartImageShared *sh, StartImageFunc f,
                void *userdata) {
        Reader r = {.p = p + HEADER_SIZE, .left = size - HEADER_SIZE - CHECK_SIZE};
        _cleanup_free_ Record *rec = malloc(sizeof(Record));
        LicenseFeature features[LICENSE_FEATURES_MAX];

        if (!rec)
                return -ENOMEM;
        for (uint64_t i = 0; i < count; i++) {
                uint8_t digest[START_IMAGE_DIGEST_SIZE];
                License l = LICENSE_INIT;
                LicenseState st = {};
                const Product *product = NULL;
                int k;

                k = read_record(&r, digest, &l, &st, rec, features);
                if (k < 0)
                        return k;
                if (!f)
                        continue;
                k = build(rec, features, sh, &l, &st, &product);
                if (k < 0) {
                        free(l.arena);
                        free(st.last_error);
                        return k;
                }
                /* Whatever f returns, l and st.last_error are its. */
                k = f(digest, &l, product, &st, userdata);
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
                      const StartImageShared *shared, StartImageFunc f, void *userdata) {
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
        r = walk(p, size, count, NULL, NULL, NULL);
        if (r < 0)
                return r;
        if (f) {
                r = walk(p, size, count, shared ?: &(StartImageShared) {}, f, userdata);
                if (r < 0)
                        return r;
        }
        if (ret_src)
                *ret_src = src;
        if (ret_count)
                *ret_count = count;
        return 0;
}
