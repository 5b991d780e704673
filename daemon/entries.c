/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The installed set: entries, their index by id and by product, and
 * loading (and re-verifying) what the store holds. */

#include <assert.h>
#include <malloc.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <stdlib.h>

#include "context.h"
#include "fileio.h"
#include "log.h"

void entry_free(Entry *e) {
        if (!e)
                return;
        if (e->license.n_features > ENTRY_INLINE_FEATURES)
                free(e->feature_reasons.heap);
        license_state_done(&e->state);
        license_done(&e->license);
        free(e);
}

char *entry_object_path(const Entry *e) {
        char *path;

        return sd_bus_path_encode(LICENSED_LICENSE_PATH_PREFIX, e->id, &path) < 0 ? NULL : path;
}

/* The keys of the two indexes, inside their items. */
static const char *entry_key(const void *item) {
        return ((const Entry *) item)->id;
}

static const char *product_entries_key(const void *item) {
        return ((const ProductEntries *) item)->product;
}

Entry *context_find_entry(Context *c, const char *id) {
        return hashmap_get(&c->by_id, id, entry_key);
}

const ProductEntries *context_product_entries(Context *c, const char *product) {
        static const ProductEntries none = {};
        ProductEntries *pe = hashmap_get(&c->by_product, product, product_entries_key);
        return pe ?: &none;
}

/* An array of n pointers at least, doubled when full: growing by one at a
 * time cost a realloc per license, and past malloc's mmap threshold each
 * was an mremap() (a third of a 100,000-license start from the image).
 * The capacity is what malloc gave, so no field keeps it. */
static void *grow(void *p, size_t n) {
        size_t want = n * sizeof(void *);

        if (p && malloc_usable_size(p) >= want)
                return p;
        return realloc(p, want < 64 ? 64 : want * 2);
}

/* Index maintenance: every change to c->entries goes through these two. */
static int index_add(Context *c, Entry *e) {
        ProductEntries *pe = hashmap_get(&c->by_product, e->license.product, product_entries_key);
        Entry **n;
        int r;

        if (!pe) {
                pe = calloc(1, sizeof(*pe));
                if (!pe || !(pe->product = strdup(e->license.product))) {
                        free(pe);
                        return -ENOMEM;
                }
                r = hashmap_put(&c->by_product, pe, product_entries_key);
                if (r < 0) {
                        free(pe->product);
                        free(pe);
                        return r;
                }
        }
        n = grow(pe->items, pe->n + 1);
        if (!n)
                return -ENOMEM;
        pe->items = n;
        pe->items[pe->n++] = e;
        r = hashmap_put(&c->by_id, e, entry_key);
        if (r < 0) {
                pe->n--;
                return r;
        }
        return 0;
}

static void index_remove(Context *c, Entry *e) {
        ProductEntries *pe = hashmap_get(&c->by_product, e->license.product, product_entries_key);

        hashmap_remove(&c->by_id, e->id, entry_key);
        if (!pe)
                return;
        for (size_t i = 0; i < pe->n; i++)
                if (pe->items[i] == e) {
                        pe->items[i] = pe->items[--pe->n];
                        break;
                }
        if (pe->n == 0) {
                hashmap_remove(&c->by_product, pe->product, product_entries_key);
                free(pe->product);
                free(pe->items);
                free(pe);
        }
}

void context_index_done(Context *c) {
        for (size_t i = 0; i < c->by_product.n_slots; i++) {
                ProductEntries *pe = hashmap_slot_item(&c->by_product, i);
                if (pe) {
                        free(pe->product);
                        free(pe->items);
                        free(pe);
                }
        }
        hashmap_done(&c->by_product);
        hashmap_done(&c->by_id);
}

static void text_digest(const char *text, uint8_t out[static ENTRY_TEXT_DIGEST_SIZE]) {
        uint8_t d[SHA256_DIGEST_LENGTH];

        SHA256((const uint8_t *) text, strlen(text), d);
        memcpy(out, d, ENTRY_TEXT_DIGEST_SIZE);
}

/* _REASON_INVALID is kept as UINT8_MAX. */
_Static_assert(_REASON_MAX < UINT8_MAX, "a reason fits in a byte");

static uint8_t *feature_reasons(Entry *e) {
        return e->license.n_features > ENTRY_INLINE_FEATURES ? e->feature_reasons.heap : e->feature_reasons.in;
}

Reason entry_feature_reason(const Entry *e, size_t k) {
        uint8_t b = feature_reasons((Entry *) e)[k];

        assert(k < e->license.n_features);
        return b == UINT8_MAX ? _REASON_INVALID : (Reason) b;
}

void entry_set_feature_reason(Entry *e, size_t k, Reason r) {
        assert(k < e->license.n_features);
        assert(r == _REASON_INVALID || (r >= 0 && r < _REASON_MAX));
        feature_reasons(e)[k] = r == _REASON_INVALID ? UINT8_MAX : (uint8_t) r;
}

int context_add_entry(Context *c, const char *id, const char *text, License *l, const Product *p,
                      const LicenseState *st, Entry **ret) {
        uint8_t digest[ENTRY_TEXT_DIGEST_SIZE];

        assert(streq(id, l->id));
        text_digest(text, digest);
        return context_add_entry_digest(c, digest, l, p, st, ret);
}

int context_add_entry_digest(Context *c, const uint8_t digest[static ENTRY_TEXT_DIGEST_SIZE], License *l,
                             const Product *p, const LicenseState *st, Entry **ret) {
        Entry *e, *old;
        int r;

        e = calloc(1, sizeof(*e));
        if (!e)
                return -ENOMEM;
        e->context = c;
        memcpy(e->text_digest, digest, ENTRY_TEXT_DIGEST_SIZE);
        if (l->n_features > ENTRY_INLINE_FEATURES &&
            !(e->feature_reasons.heap = malloc(l->n_features))) {
                free(e);
                return -ENOMEM;
        }
        e->license = *l;
        license_init(l);
        /* Kept until removed or replaced, never edited: one allocation, and
         * this machine's id and device key and the product's id (products
         * live as long as the context) not repeated in every license. */
        r = license_compact(&e->license,
                            (const char *const[]) {c->machine_id, c->device_key_b64, p ? p->id : NULL, NULL});
        if (r < 0) {
                entry_free(e);
                return r;
        }
        e->id = e->license.id;
        e->product = p;
        e->state = *st;
        e->state.last_error = NULL;
        if (st->last_error && !(e->state.last_error = strdup(st->last_error))) {
                entry_free(e);
                return -ENOMEM;
        }
        /* Feature signals start afresh; the journal continues from what was
         * last announced, even across restarts and idle exits. */
        for (size_t i = 0; i < e->license.n_features; i++)
                entry_set_feature_reason(e, i, _REASON_INVALID);
        /* No record means nothing but "licensed" was ever announced: a healthy
         * license costs no write. */
        e->status = st->announced[0] ? reason_from_string(st->announced) : REASON_LICENSED;
        e->warned_days_left = st->warned_days_left > 0 ? st->warned_days_left : -1;

        /* e->id, not id: the caller's id may be the string the License
         * held, which license_compact() freed. */
        old = context_find_entry(c, e->id);
        if (!old) {
                Entry **n = grow(c->entries, c->n_entries + 1);
                if (!n) {
                        entry_free(e);
                        return -ENOMEM;
                }
                c->entries = n;
        }
        r = index_add(c, e);
        if (r < 0) {
                entry_free(e);
                return r;
        }
        if (old) {
                /* index_add() replaced the id mapping; drop old's product slot. */
                ProductEntries *pe = hashmap_get(&c->by_product, old->license.product, product_entries_key);
                for (size_t i = 0; pe && i < pe->n; i++)
                        if (pe->items[i] == old) {
                                pe->items[i] = pe->items[--pe->n];
                                break;
                        }
                for (size_t i = 0; i < c->n_entries; i++)
                        if (c->entries[i] == old)
                                c->entries[i] = e;
                entry_free(old);
        } else
                c->entries[c->n_entries++] = e;
        if (ret)
                *ret = e;
        return 0;
}

void context_drop_entries(Context *c) {
        for (size_t i = 0; i < c->n_entries; i++)
                entry_free(c->entries[i]);
        free(c->entries);
        c->entries = NULL;
        c->n_entries = 0;
        context_index_done(c);
        c->by_id = (Hashmap) {};
        c->by_product = (Hashmap) {};
}

void context_remove_entry(Context *c, Entry *e) {
        index_remove(c, e);
        for (size_t i = 0; i < c->n_entries; i++)
                if (c->entries[i] == e) {
                        memmove(c->entries + i, c->entries + i + 1, (c->n_entries - i - 1) * sizeof(Entry *));
                        c->n_entries--;
                        break;
                }
        entry_free(e);
}

bool entry_text_is(const Entry *e, const char *text) {
        uint8_t d[ENTRY_TEXT_DIGEST_SIZE];

        assert(e);
        assert(text);
        text_digest(text, d);
        return CRYPTO_memcmp(d, e->text_digest, sizeof(d)) == 0;
}

int entry_read_text(Context *c, const Entry *e, char **ret) {
        _cleanup_free_ char *path = store_path(&c->store, "licenses", e->id, ".lic"), *text = NULL;
        size_t len;
        int r;

        assert(ret);
        if (!path)
                return -ENOMEM;
        r = read_file(path, ARMOR_MAX_SIZE, &text, &len);
        if (r < 0)
                return r;
        /* Only the bytes that were verified: a file changed behind the
         * daemon's back is not handed out as this license. */
        if (strlen(text) != len || !entry_text_is(e, text))
                return -EBADMSG;
        *ret = TAKE_PTR(text);
        return 0;
}

typedef struct LoadState {
        Context *c;
        unsigned loaded, failed, verified;
        VerifiedCache known;   /* verified.cache as found, empty if none or unusable */
        VerifiedCache valid;   /* what this start found valid: the next verified.cache */
        VerifiedDigest digest; /* the license being loaded's, set by is_known() */
        bool have_digest;
} LoadState;

/* Called once the trust key is chosen, before the signature check. */
static bool is_known(EVP_PKEY *key, const char *text, size_t len, void *userdata) {
        LoadState *ls = userdata;
        uint8_t raw[ED25519_PUBLIC_KEY_SIZE];

        ls->have_digest = ed25519_public_raw(key, raw) >= 0 &&
                          verified_digest(raw, text, len, &ls->digest) >= 0;
        if (ls->have_digest && verified_cache_contains(&ls->known, &ls->digest))
                return true;
        ls->verified++;
        return false;
}

static void loaded_one(const char *id, const char *text, size_t len, const LicenseState *st, void *userdata) {
        LoadState *ls = userdata;
        Context *c = ls->c;
        _cleanup_(license_done) License l = LICENSE_INIT;
        const Product *p = NULL;
        CoreError err = {};
        int r;

        /* Stored licenses are verified again at every start unless these
         * exact bytes were verified with the same trust key before
         * (verified.cache, docs/architecture.md): the rest of the state dir
         * is not trusted more than the license itself. */
        ls->have_digest = false;
        r = license_verify_with_products_known(text, len, &c->products, is_known, ls, &l, &p, &err);
        if (r >= 0 && !streq(l.id, id))
                r = core_error_set(&err, EBADMSG, "file name says %s but the license is %s", id, l.id);
        if (r < 0) {
                _cleanup_free_ char *path = store_path(&c->store, "licenses", id, ".lic"), *moved = NULL;

                /* A product file may simply be missing (uninstalled, or a typo
                 * in products.d): keep the license where it is for that case. */
                if (r == -ENOKEY || r == -ENOENT) {
                        log_warning("License %s is not usable and stays stored: %s", id,
                                    core_error_message(&err, r));
                        ls->failed++;
                        return;
                }
                if (path && store_quarantine(&c->store, path, &moved) >= 0)
                        log_error("License %s is damaged and was moved to %s: %s", id, moved,
                                  core_error_message(&err, r));
                ls->failed++;
                return;
        }
        r = context_add_entry(c, id, text, &l, p, st, NULL);
        if (r < 0) {
                log_error_errno(r, "Failed to add license %s: %m", id);
                ls->failed++;
                return;
        }
        /* Only a license that was valid as a whole goes in: a miss next
         * time costs a check, a wrong member would cost nothing less. */
        if (ls->have_digest && verified_cache_add(&ls->valid, &ls->digest) < 0)
                ls->have_digest = false;
        ls->loaded++;
}

static void damaged_one(const char *path, const char *why, const char *moved_to, void *userdata) {
        size_t n = strlen(path);

        if (n > 6 && streq(path + n - 6, ".state"))
                log_error("%s is damaged (%s) and was moved to %s; its license keeps working, as installed at "
                          "the file's time and never validated",
                          path, why, moved_to);
        else
                log_error("%s cannot be used (%s) and was moved to %s; that license is not loaded", path, why,
                          moved_to);
}

static void load_verified(LoadState *ls) {
        int r = store_load_verified(&ls->c->store, &ls->known);

        if (r == -ENOENT)
                log_debug("No verified.cache: every license's signature is checked.");
        else if (r < 0)
                log_internal(LOG_NOTICE, r,
                             "Ignoring %s/verified.cache (%m): every license's signature is checked, and "
                             "the file is written anew.",
                             ls->c->store.dir);
}

/* Written only when the set changed: a start with nothing new writes nothing. */
static void save_verified(LoadState *ls) {
        int r;

        verified_cache_seal(&ls->valid);
        if (verified_cache_equal(&ls->known, &ls->valid) && ls->verified == 0)
                return;
        r = store_save_verified(&ls->c->store, &ls->valid);
        if (r < 0)
                log_warning_errno(r,
                                  "Failed to write %s/verified.cache, the next start checks every "
                                  "signature again: %m",
                                  ls->c->store.dir);
}

int context_load_license_at(Context *c, int dir_fd, const char *name) {
        LoadState ls = {.c = c};

        /* Verified in full: this is the file that differs from the start
         * image, or one it did not know. */
        return store_load_license_at(&c->store, dir_fd, name, loaded_one, damaged_one, &ls);
}

int context_load_licenses(Context *c) {
        LoadState ls = {.c = c};
        int r;

        r = context_load_image(c);
        if (r > 0)
                return 0;

        load_verified(&ls);
        r = store_load_licenses(&c->store, loaded_one, damaged_one, &ls);
        if (r >= 0)
                save_verified(&ls);
        verified_cache_done(&ls.known);
        verified_cache_done(&ls.valid);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/licenses: %m", c->store.dir);
        /* Reading and parsing left freed buffers between the entries that
         * stay: give those pages back (glibc returns whole free pages
         * inside the heap too, not only at its top). */
        (void) malloc_trim(0);
        log_debug("%u license signature(s) checked, the rest known from verified.cache.", ls.verified);
        log_info("Loaded %u license(s)%s.", ls.loaded, ls.failed ? ", some could not be used (see above)" : "");
        context_image_changed(c); /* written once the start has settled */
        return 0;
}
