/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/pem.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "fuzz.h"
#include "strutil.h"

#define NAMES_MAX 4

/* libconfig 1.5 leaks scanner strings on some syntax errors (a string
 * followed by garbage, '"x"\xff'; an empty string before an error), also
 * with a plain config_init/config_read/config_destroy and none of our code.
 * Nothing of ours is allocated inside libconfig, so its leaks are not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
        return "leak:libconfig.so\n";
}

static char tmpdir[PATH_MAX];
static char *names[NAMES_MAX];
static char path_buf[PATH_MAX];

void fuzz_fail(const char *fmt, ...) {
        va_list ap;

        fputs("fuzz: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        abort();
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);

        fuzz_check(s, "out of memory");
        if (size > 0)
                memcpy(s, data, size);
        s[size] = 0;
        return s;
}

static const char *vectors_dir(void) {
        const char *e = getenv("LICENSED_FUZZ_VECTORS");
        return e && *e ? e : FUZZ_VECTORS_DIR;
}

static char *read_vector(const char *name) {
        char path[PATH_MAX], *s = NULL;
        size_t n = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", vectors_dir(), name);
        f = fopen(path, "re");
        fuzz_check(f, "cannot open %s: %m (set LICENSED_FUZZ_VECTORS to the tests/vectors directory)", path);
        fuzz_check(getdelim(&s, &n, 0, f) > 0, "cannot read %s", path);
        fclose(f);
        return s;
}

static EVP_PKEY *public_vector(const char *name) {
        char *text = read_vector(name);
        EVP_PKEY *key = NULL;
        CoreError err = {};
        int r;

        r = ed25519_public_from_base64(strstrip(text), &key, &err);
        fuzz_check(r >= 0, "%s: %s", name, core_error_message(&err, r));
        free(text);
        return key;
}

EVP_PKEY *fuzz_vendor_public(void) {
        static EVP_PKEY *key;

        if (!key)
                key = public_vector("vendor.pub");
        return key;
}

EVP_PKEY *fuzz_vendor_private(void) {
        static EVP_PKEY *key;
        char path[PATH_MAX];
        FILE *f;

        if (key)
                return key;
        /* Read directly, not with ed25519_load_private(): that refuses a key
         * file others can read, and a checkout does not keep mode 0600. */
        snprintf(path, sizeof(path), "%s/vendor.key", vectors_dir());
        f = fopen(path, "re");
        fuzz_check(f, "cannot open %s: %m", path);
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        fuzz_check(key && EVP_PKEY_get_id(key) == EVP_PKEY_ED25519, "%s is not an Ed25519 private key", path);
        return key;
}

static void product_init(Product *p, const char *id, EVP_PKEY *key) {
        *p = (Product) {
                .id = strdup(id),
                .name = strdup(id),
                .source_path = strdup("(fuzz)"),
                .trust_keys = calloc(1, sizeof(TrustKey)),
                .n_trust_keys = 1,
                .validation_interval = PRODUCT_DEFAULT_VALIDATION_INTERVAL,
                .grace_period = PRODUCT_DEFAULT_GRACE_PERIOD,
        };
        fuzz_check(p->id && p->name && p->source_path && p->trust_keys, "out of memory");
        p->trust_keys[0].key = key;
        fuzz_check(key_id_from_key(key, p->trust_keys[0].id) >= 0, "key id of %s", id);
}

const ProductSet *fuzz_products(void) {
        static ProductSet set;

        if (set.n_products > 0)
                return &set;
        set.products = calloc(2, sizeof(Product));
        fuzz_check(set.products, "out of memory");
        EVP_PKEY_up_ref(fuzz_vendor_public());
        product_init(&set.products[0], FUZZ_PRODUCT, fuzz_vendor_public());
        product_init(&set.products[1], FUZZ_OTHER_PRODUCT, public_vector("device.pub"));
        set.n_products = 2;
        return &set;
}

static void remove_tmpdir(void) {
        for (size_t i = 0; i < NAMES_MAX && names[i]; i++) {
                snprintf(path_buf, sizeof(path_buf), "%s/%s", tmpdir, names[i]);
                (void) unlink(path_buf);
                free(names[i]);
        }
        (void) rmdir(tmpdir);
}

const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size) {
        size_t i;
        int fd;

        if (!tmpdir[0]) {
                const char *t = getenv("TMPDIR");

                /* tmpfs if there is one: rewriting a file thousands of times a
                 * second on ext4 starts writeback at every close. */
                if (!t || !*t)
                        t = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
                snprintf(tmpdir, sizeof(tmpdir), "%s/licensed-fuzz.XXXXXX", t);
                fuzz_check(mkdtemp(tmpdir), "mkdtemp %s: %m", tmpdir);
                atexit(remove_tmpdir);
        }
        for (i = 0; i < NAMES_MAX && names[i]; i++)
                if (streq(names[i], name))
                        break;
        fuzz_check(i < NAMES_MAX, "too many temporary files");
        if (!names[i])
                fuzz_check((names[i] = strdup(name)), "out of memory");

        snprintf(path_buf, sizeof(path_buf), "%s/%s", tmpdir, name);
        fd = open(path_buf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        fuzz_check(fd >= 0, "open %s: %m", path_buf);
        for (size_t done = 0; done < size;) {
                ssize_t k = write(fd, data + done, size - done);
                fuzz_check(k > 0, "write %s: %m", path_buf);
                done += (size_t) k;
        }
        close(fd);
        return path_buf;
}

int fuzz_check_error(int r, const CoreError *err, const char *what) {
        static int check_messages = -1;
        size_t n;

        fuzz_check(r < 0 && r > -4096, "%s returned %d, not a negative errno", what, r);
        if (!err || !err->message[0])
                return r;
        n = strnlen(err->message, sizeof(err->message));
        fuzz_check(n < sizeof(err->message), "%s: the error message is not NUL-terminated", what);

        if (check_messages < 0) {
                const char *e = getenv("LICENSED_FUZZ_MESSAGES");
                check_messages = !(e && streq(e, "0"));
        }
        /* Messages go out in D-Bus errors, which must be valid UTF-8 (sd-bus
         * refuses to send anything else, and the caller gets no answer), and
         * to terminals, where control characters are escape sequences. */
        if (check_messages && !utf8_is_printable(err->message, n, false)) {
                char shown[4 * sizeof(err->message)], *p = shown;

                /* Not the raw bytes: they would go to the terminal too. */
                for (size_t i = 0; i < n; i++) {
                        unsigned char c = (unsigned char) err->message[i];
                        p += c >= 0x20 && c < 0x7f ? sprintf(p, "%c", c) : sprintf(p, "\\x%02x", c);
                }
                fuzz_fail("%s: the error message is not printable UTF-8: \"%s\"", what, shown);
        }
        return r;
}

bool fuzz_has_include(const uint8_t *data, size_t size) {
        static const char word[] = "include";

        for (size_t i = 0; i + sizeof(word) - 1 <= size; i++) {
                size_t k = 0;

                while (k < sizeof(word) - 1 && tolower(data[i + k]) == word[k])
                        k++;
                if (k == sizeof(word) - 1)
                        return true;
        }
        return false;
}
