/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "crypto.h"
#include "product.h"
#include "test-files.h"

/* Real Ed25519 public keys (openssl genpkey -algorithm ed25519), and their
 * key ids computed independently: base64 -d | sha256sum | cut -c1-16. */
#define K1 "qqJkg39p/RDjc2yTuKja11jUAI9uPZ9u7vqg+1Djyes="
#define K1_ID "5ea696e1ebdf6e33"
#define K2 "b/nXGsNMMvmcxQ558lu1izzP/DfV7WlN9MgmaERgcRw="
#define K2_ID "da1def98247bdcd4"
#define K3 "gZfzjbHPLXkRpb5Up8YsTNDN89c/IBug73Yrzlhw3zo="
#define K3_ID "48daeeaa95777b04"

static char *data_path(const char *rel) {
        return test_data_path("product", rel);
}

static int setup(void **state) {
        return test_tmpdir_setup(state, "test-product");
}

/* Collects warnings from product_set_load(). */
typedef struct Warnings {
        char paths[16][512];
        char messages[16][512];
        size_t n;
} Warnings;

static void collect_warning(const char *path, const char *message, void *userdata) {
        Warnings *w = userdata;

        assert_true(w->n < ELEMENTSOF(w->paths));
        snprintf(w->paths[w->n], sizeof(w->paths[w->n]), "%s", path);
        snprintf(w->messages[w->n], sizeof(w->messages[w->n]), "%s", message);
        w->n++;
}

static void test_id_is_valid(void **state) {
        static const struct {
                const char *id;
                bool valid;
        } cases[] = {
                {"com.example.app", true},
                {"a", true},
                {"0", true},
                {"x1_y-z.w", true},
                {"9lives", true},
                {"", false},
                {".hidden", false},
                {"-dash", false},
                {"_under", false},
                {"Com.Example", false},
                {"com.example.App", false},
                {"com example", false},
                {"com/example", false},
                {"com:example", false},
                {"caf\xc3\xa9", false},
        };
        char longid[130];

        (void) state;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                if (product_id_is_valid(cases[i].id) != cases[i].valid)
                        fail_msg("product_id_is_valid(\"%s\") != %d", cases[i].id, cases[i].valid);
        }
        assert_false(product_id_is_valid(NULL));

        memset(longid, 'a', 128);
        longid[128] = 0;
        assert_true(product_id_is_valid(longid));
        longid[128] = 'a';
        longid[129] = 0;
        assert_false(product_id_is_valid(longid));
}

static void test_load_good(void **state) {
        _cleanup_free_ char *path = data_path("good.conf");
        uint8_t raw[ED25519_PUBLIC_KEY_SIZE];
        char id[KEY_ID_STRING_SIZE];
        CoreError err = {};
        Product p;
        EVP_PKEY *k;

        (void) state;
        assert_int_equal(product_load_file(path, &p, &err), 0);
        assert_string_equal(err.message, "");
        assert_string_equal(p.id, "com.example.app");
        assert_string_equal(p.name, "Example App \xe2\x80\x94 Professional");
        assert_string_equal(p.server_url, "https://licensing.example.com");
        assert_string_equal(p.offline_url, "https://licensing.example.com/offline");
        assert_string_equal(p.source_path, path);
        assert_int_equal(p.validation_interval, 3 * SEC_PER_DAY);
        assert_int_equal(p.grace_period, 14 * SEC_PER_DAY);

        assert_int_equal(p.n_trust_keys, 2);
        assert_string_equal(p.trust_keys[0].id, K1_ID);
        assert_string_equal(p.trust_keys[1].id, K2_ID);

        k = product_find_trust_key(&p, K2_ID);
        assert_ptr_equal(k, p.trust_keys[1].key);
        assert_int_equal(ed25519_public_raw(k, raw), 0);
        key_id_from_raw(raw, id);
        assert_string_equal(id, K2_ID);

        assert_ptr_equal(product_find_trust_key(&p, K1_ID), p.trust_keys[0].key);
        assert_null(product_find_trust_key(&p, K3_ID));
        assert_null(product_find_trust_key(&p, ""));
        assert_null(product_find_trust_key(&p, NULL));

        product_done(&p);
        assert_null(p.id);
        assert_int_equal(p.n_trust_keys, 0);
        product_done(&p); /* idempotent */
}

static void test_load_minimal_defaults(void **state) {
        _cleanup_free_ char *path = data_path("minimal.conf");
        CoreError err = {};
        Product p;

        (void) state;
        assert_int_equal(product_load_file(path, &p, &err), 0);
        assert_string_equal(p.id, "org.example.minimal");
        assert_string_equal(p.name, "Minimal");
        assert_null(p.server_url);
        assert_null(p.offline_url);
        assert_int_equal(p.validation_interval, PRODUCT_DEFAULT_VALIDATION_INTERVAL);
        assert_int_equal(p.grace_period, PRODUCT_DEFAULT_GRACE_PERIOD);
        assert_int_equal(p.n_trust_keys, 1);
        assert_string_equal(p.trust_keys[0].id, K3_ID);
        product_done(&p);
}

/* Good files written on the fly: the variants of each optional setting. */
static void test_load_variants(void **state) {
        static const struct {
                const char *content;
                int64_t validation_interval;
                int64_t grace_period;
                size_t n_keys;
        } cases[] = {
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1 "\"]; validation_interval=0;", 0,
                 PRODUCT_DEFAULT_GRACE_PERIOD, 1},
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1
                 "\"]; validation_interval=\"0\"; grace_period=\"0\";",
                 0, 0, 1},
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1
                 "\"]; validation_interval=\"12h\"; grace_period=90;",
                 12 * SEC_PER_HOUR, 90, 1},
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1 "\"]; grace_period=\"2w\";",
                 PRODUCT_DEFAULT_VALIDATION_INTERVAL, 14 * SEC_PER_DAY, 1},
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1 "\"]; grace_period=5000000000L;",
                 PRODUCT_DEFAULT_VALIDATION_INTERVAL, INT64_C(5000000000), 1},
                /* a libconfig list works as well as an array */
                {"id=\"a\"; name=\"A\"; trusted_keys=(\"" K1 "\", \"" K2 "\", \"" K3 "\");",
                 PRODUCT_DEFAULT_VALIDATION_INTERVAL, PRODUCT_DEFAULT_GRACE_PERIOD, 3},
                /* settings in any order, colon assignment, comments */
                {"// c++ comment\ngrace_period : 60 /* inline */ ; trusted_keys : [\"" K1 "\"]\n"
                 "name : \"A\"; id : \"a\";",
                 PRODUCT_DEFAULT_VALIDATION_INTERVAL, 60, 1},
                {"id=\"a\"; name=\"A\"; trusted_keys=[\"" K1 "\"]; server_url=\"HTTP://Host:8080/x?y=1\";",
                 PRODUCT_DEFAULT_VALIDATION_INTERVAL, PRODUCT_DEFAULT_GRACE_PERIOD, 1},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = test_write_tmp(*state, "variant.conf", cases[i].content);
                CoreError err = {};
                Product p;
                int r;

                r = product_load_file(path, &p, &err);
                if (r < 0)
                        fail_msg("case %zu: %s", i, err.message);
                assert_string_equal(p.id, "a");
                assert_int_equal(p.validation_interval, cases[i].validation_interval);
                assert_int_equal(p.grace_period, cases[i].grace_period);
                assert_int_equal(p.n_trust_keys, cases[i].n_keys);
                product_done(&p);
        }
}

static void test_load_errors(void **state) {
        static const struct {
                const char *content;
                const char *error; /* expected message after "PATH" */
        } cases[] = {
                /* required settings */
                {"name = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\n", ": required setting 'id' is missing"},
                {"id = \"a\";\ntrusted_keys = [ \"" K1 "\" ];\n", ": required setting 'name' is missing"},
                {"id = \"a\";\nname = \"A\";\n", ": required setting 'trusted_keys' is missing"},
                {"", ": required setting 'id' is missing"},
                /* id */
                {"id = \"Com.Example\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":1: id 'Com.Example' is not a valid product id"},
                {"name = \"A\";\n\nid = \"\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":3: id '' is not a valid product id"},
                {"id = \"-a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":1: id '-a' is not a valid product id"},
                {"id = 5;\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":1: id must be a string, not an integer"},
                /* name */
                {"id = \"a\";\nname = \"\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":2: name must be 1 to 256 bytes of printable UTF-8 text"},
                {"id = \"a\";\nname = \"tab\\there\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":2: name must be 1 to 256 bytes of printable UTF-8 text"},
                {"id = \"a\";\nname = \"bad \xff utf8\";\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":2: name must be 1 to 256 bytes of printable UTF-8 text"},
                {"id = \"a\";\nname = [ \"A\" ];\ntrusted_keys = [ \"" K1 "\" ];\n",
                 ":2: name must be a string, not an array"},
                /* trusted_keys */
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\", \"not base64!\" ];\n",
                 ":3: trusted_keys[1] is not a valid Ed25519 public key: "},
                {"id = \"a\";\nname = \"A\";\n\ntrusted_keys = [\n        \"" K1
                 "\",\n        \"aGVsbG8=\"\n];\n",
                 ":4: trusted_keys[1] is not a valid Ed25519 public key: "},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"\" ];\n",
                 ":3: trusted_keys[0] is not a valid Ed25519 public key: "},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \" " K1 "\" ];\n",
                 ":3: trusted_keys[0] is not a valid Ed25519 public key: "},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\", \"" K2 "\", \"" K1 "\" ];\n",
                 ":3: trusted_keys[2] is the same key as trusted_keys[0]"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ ];\n",
                 ":3: trusted_keys must list 1 to 16 keys, not 0"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = \"" K1 "\";\n",
                 ":3: trusted_keys must be an array of base64 strings like [ \"...\" ], not a string"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = ( \"" K1 "\", 5 );\n",
                 ":3: trusted_keys[1] must be a string, not an integer"},
                /* URLs */
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\nserver_url = \"ftp://example.com\";\n",
                 ":4: server_url must be an http:// or https:// URL without spaces, not "
                 "'ftp://example.com'"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\nserver_url = \"example.com\";\n",
                 ":4: server_url must be an http:// or https:// URL"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\nserver_url = \"https://\";\n",
                 ":4: server_url must be an http:// or https:// URL"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\nserver_url = \"https:///path\";\n",
                 ":4: server_url must be an http:// or https:// URL"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\nserver_url = \"https://a b\";\n",
                 ":4: server_url must be an http:// or https:// URL"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\n\noffline_url = \"\";\n",
                 ":5: offline_url must be an http:// or https:// URL"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\noffline_url = true;\n",
                 ":4: offline_url must be a string, not a boolean"},
                /* durations */
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\nvalidation_interval = \"7 days\";\n",
                 ":4: validation_interval: '7 days' is not a duration"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\nvalidation_interval = -1;\n",
                 ":4: validation_interval must be a duration of 0 or more seconds"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\ngrace_period = 1.5;\n",
                 ":4: grace_period must be a duration (integer seconds or a string like \"14d\"), not a "
                 "float"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\ngrace_period = false;\n",
                 ":4: grace_period must be a duration"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\ngrace_period = \"\";\n",
                 ":4: grace_period: '' is not a duration"},
                /* unknown settings: a typo must not be silently ignored */
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1 "\" ];\nsever_url = \"https://x\";\n",
                 ":4: unknown setting 'sever_url'"},
                {"id = \"a\";\nname = \"A\";\ntrusted_keys = [ \"" K1
                 "\" ];\n\n\nextra = { server_url = \"https://x\"; };\n",
                 ":6: unknown setting 'extra'"},
                /* syntax errors name the line */
                {"id = \"a\";\nname = \"A\";\ntrusted_keys [ \"" K1 "\" ];\n", ":3: syntax error"},
                {"id = \"a\";\nname = = \"A\";\n", ":2: syntax error"},
                {"id = \"a\";\nid = \"b\";\nname = \"A\";\n", ":2: duplicate setting name"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *path = test_write_tmp(*state, "bad.conf", cases[i].content);
                _cleanup_free_ char *expected = NULL;
                CoreError err = {};
                Product p = {.id = (char *) "untouched"};
                int r;

                assert_true(asprintf(&expected, "%s%s", path, cases[i].error) >= 0);
                r = product_load_file(path, &p, &err);
                if (r >= 0)
                        fail_msg("case %zu loaded, expected \"%s\"", i, cases[i].error);
                if (r != -EINVAL || strncmp(err.message, expected, strlen(expected)) != 0)
                        fail_msg("case %zu: got %d \"%s\", expected \"%s\"", i, r, err.message, expected);
                assert_string_equal(p.id, "untouched"); /* *ret untouched on failure */
        }
}

static void test_load_bad_key_count(void **state) {
        _cleanup_free_ char *content = NULL, *path = NULL;
        CoreError err = {};
        size_t len = 0;
        Product p;
        FILE *f;

        f = open_memstream(&content, &len);
        assert_non_null(f);
        fputs("id = \"a\";\nname = \"A\";\ntrusted_keys = [\n", f);
        for (int i = 0; i < 17; i++)
                fprintf(f, "  \"%s\"%s\n", K1, i < 16 ? "," : "");
        fputs("];\n", f);
        assert_int_equal(fclose(f), 0);

        path = test_write_tmp(*state, "many.conf", content);
        assert_int_equal(product_load_file(path, &p, &err), -EINVAL);
        assert_contains(err.message, ":3: trusted_keys must list 1 to 16 keys, not 17");
}

static void test_load_long_name(void **state) {
        char content[600], name[300];
        CoreError err = {};
        Product p;

        memset(name, 'n', 256);
        name[256] = 0;
        snprintf(content, sizeof(content), "id=\"a\"; name=\"%s\"; trusted_keys=[\"%s\"];", name, K1);
        {
                _cleanup_free_ char *path = test_write_tmp(*state, "name256.conf", content);
                assert_int_equal(product_load_file(path, &p, &err), 0);
                assert_int_equal(strlen(p.name), 256);
                product_done(&p);
        }

        name[256] = 'n';
        name[257] = 0;
        snprintf(content, sizeof(content), "id=\"a\"; name=\"%s\"; trusted_keys=[\"%s\"];", name, K1);
        {
                _cleanup_free_ char *path = test_write_tmp(*state, "name257.conf", content);
                assert_int_equal(product_load_file(path, &p, &err), -EINVAL);
                assert_contains(err.message, ":1: name must be 1 to 256 bytes");
        }
}

static void test_load_unreadable(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *missing = NULL;
        CoreError err = {};
        Product p;

        assert_true(asprintf(&missing, "%s/does-not-exist.conf", st->tmpdir) >= 0);
        assert_int_equal(product_load_file(missing, &p, &err), -ENOENT);
        assert_has_prefix(err.message, missing);

        /* a directory is not a product file */
        assert_int_equal(product_load_file(st->tmpdir, &p, &err), -EINVAL);
        assert_contains(err.message, "not a regular file");

        /* NULL err is allowed */
        assert_int_equal(product_load_file(missing, &p, NULL), -ENOENT);
}

static void test_set_precedence(void **state) {
        _cleanup_free_ char *vendor = data_path("vendor"), *admin = data_path("admin"),
                            *missing = data_path("no-such-dir");
        _cleanup_free_ char *broken = NULL, *extra = NULL, *dup = NULL, *app = NULL;
        const char *dirs[] = {vendor, admin, missing};
        ProductSet set;
        Warnings w = {};
        const Product *p;

        (void) state;
        assert_int_equal(product_set_load(&set, dirs, ELEMENTSOF(dirs), collect_warning, &w), 0);

        /* sorted by file name: broken, com.example.app, com.example.extra, com.example.tool, zz-duplicate */
        assert_int_equal(set.n_products, 2);
        assert_string_equal(set.products[0].id, "com.example.app");
        assert_string_equal(set.products[1].id, "com.example.tool");

        /* the admin file replaced the vendor one entirely */
        p = product_set_find(&set, "com.example.app");
        assert_non_null(p);
        assert_true(asprintf(&app, "%s/com.example.app.conf", admin) >= 0);
        assert_string_equal(p->source_path, app);
        assert_string_equal(p->name, "Example App (site)");
        assert_null(p->server_url); /* only the vendor file had it */
        assert_string_equal(p->offline_url, "http://intranet.example.com/activate");
        assert_int_equal(p->grace_period, 30 * SEC_PER_DAY);
        assert_int_equal(p->n_trust_keys, 1);
        assert_non_null(product_find_trust_key(p, K2_ID));
        assert_null(product_find_trust_key(p, K1_ID));

        p = product_set_find(&set, "com.example.tool");
        assert_non_null(p);
        assert_string_equal(p->name, "Example Tool");
        assert_int_equal(p->validation_interval, 0);

        /* broken admin override hides the good vendor file */
        assert_null(product_set_find(&set, "com.example.extra"));
        assert_null(product_set_find(&set, "com.example.broken"));
        assert_null(product_set_find(&set, "com.example.hidden"));
        assert_null(product_set_find(&set, "com.example.orig"));
        assert_null(product_set_find(&set, "nope"));
        assert_null(product_set_find(&set, NULL));

        assert_int_equal(w.n, 3);
        assert_true(asprintf(&broken, "%s/broken.conf", vendor) >= 0);
        assert_true(asprintf(&extra, "%s/com.example.extra.conf", admin) >= 0);
        assert_true(asprintf(&dup, "%s/zz-duplicate.conf", vendor) >= 0);

        assert_string_equal(w.paths[0], broken);
        assert_has_prefix(w.messages[0], broken);
        assert_contains(w.messages[0], ":5: syntax error");

        assert_string_equal(w.paths[1], extra);
        assert_has_prefix(w.messages[1], extra);
        assert_contains(w.messages[1], "required setting 'trusted_keys' is missing");

        assert_string_equal(w.paths[2], dup);
        assert_has_prefix(w.messages[2], dup);
        assert_contains(w.messages[2], "product 'com.example.tool' is already defined in ");
        assert_contains(w.messages[2], "com.example.tool.conf");

        product_set_done(&set);
        assert_int_equal(set.n_products, 0);
        assert_null(set.products);
        product_set_done(&set);
}

static void test_set_reverse_precedence(void **state) {
        _cleanup_free_ char *vendor = data_path("vendor"), *admin = data_path("admin");
        const char *dirs[] = {admin, vendor};
        ProductSet set;
        const Product *p;

        (void) state;
        /* warn may be NULL */
        assert_int_equal(product_set_load(&set, dirs, ELEMENTSOF(dirs), NULL, NULL), 0);
        assert_int_equal(set.n_products, 3);

        p = product_set_find(&set, "com.example.app");
        assert_non_null(p);
        assert_string_equal(p->name, "Example App");
        assert_string_equal(p->server_url, "https://licensing.example.com");

        p = product_set_find(&set, "com.example.extra");
        assert_non_null(p);
        assert_string_equal(p->name, "Example Extra");
        assert_string_equal(p->trust_keys[0].id, K3_ID);

        product_set_done(&set);
}

static void test_set_missing_and_empty(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *missing = data_path("no-such-dir"), *empty = NULL;
        const char *dirs[2];
        ProductSet set;
        Warnings w = {};

        assert_true(asprintf(&empty, "%s/empty", st->tmpdir) >= 0);
        assert_int_equal(mkdir(empty, 0755), 0);
        dirs[0] = missing;
        dirs[1] = empty;

        assert_int_equal(product_set_load(&set, dirs, 2, collect_warning, &w), 0);
        assert_int_equal(set.n_products, 0);
        assert_int_equal(w.n, 0);
        assert_null(product_set_find(&set, "com.example.app"));
        product_set_done(&set);

        assert_int_equal(product_set_load(&set, NULL, 0, collect_warning, &w), 0);
        assert_int_equal(set.n_products, 0);
        product_set_done(&set);
}

static void test_set_duplicate_in_other_dir(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *vendor = data_path("vendor"), *dir = NULL, *f1 = NULL, *f2 = NULL, *f3 = NULL;
        const char *dirs[2];
        ProductSet set;
        Warnings w = {};
        const Product *p;

        assert_true(asprintf(&dir, "%s/dup", st->tmpdir) >= 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        /* Sorts before the vendor's com.example.app.conf, so this one wins and
         * the vendor file is the duplicate. */
        assert_true(asprintf(&f1, "%s/aaa.conf", dir) >= 0);
        assert_true(asprintf(&f2, "%s/com.example.app.conf", vendor) >= 0);
        {
                FILE *f = fopen(f1, "we");
                assert_non_null(f);
                fputs("id = \"com.example.app\";\nname = \"First\";\ntrusted_keys = [ \"" K3 "\" ];\n", f);
                assert_int_equal(fclose(f), 0);
        }
        /* a trailing slash on the directory is fine */
        assert_true(asprintf(&f3, "%s/", dir) >= 0);
        dirs[0] = vendor;
        dirs[1] = f3;

        assert_int_equal(product_set_load(&set, dirs, 2, collect_warning, &w), 0);
        p = product_set_find(&set, "com.example.app");
        assert_non_null(p);
        assert_string_equal(p->name, "First");
        assert_string_equal(p->source_path, f1);

        /* broken.conf, the vendor com.example.app.conf (duplicate), zz-duplicate.conf */
        assert_int_equal(w.n, 3);
        assert_string_equal(w.paths[1], f2);
        assert_contains(w.messages[1], "product 'com.example.app' is already defined in ");
        assert_contains(w.messages[1], f1);
        product_set_done(&set);
}

static void test_set_mask(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *vendor = data_path("vendor"), *dir = NULL, *link = NULL;
        const char *dirs[2];
        ProductSet set;

        assert_true(asprintf(&dir, "%s/mask", st->tmpdir) >= 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_true(asprintf(&link, "%s/com.example.app.conf", dir) >= 0);
        assert_int_equal(symlink("/dev/null", link), 0);
        dirs[0] = vendor;
        dirs[1] = dir;

        assert_int_equal(product_set_load(&set, dirs, 2, NULL, NULL), 0);
        assert_null(product_set_find(&set, "com.example.app"));
        assert_non_null(product_set_find(&set, "com.example.tool"));
        product_set_done(&set);
}

static void test_set_dangling_symlink(void **state) {
        const TestState *st = *state;
        _cleanup_free_ char *vendor = data_path("vendor"), *dir = NULL, *link = NULL;
        const char *dirs[2];
        ProductSet set;
        Warnings w = {};

        assert_true(asprintf(&dir, "%s/dangling", st->tmpdir) >= 0);
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_true(asprintf(&link, "%s/com.example.app.conf", dir) >= 0);
        assert_int_equal(symlink("/nonexistent/licensed-test.conf", link), 0);
        dirs[0] = vendor;
        dirs[1] = dir;

        /* reported, and the vendor file stays in effect */
        assert_int_equal(product_set_load(&set, dirs, 2, collect_warning, &w), 0);
        assert_non_null(product_set_find(&set, "com.example.app"));
        assert_int_equal(w.n, 3);
        assert_string_equal(w.paths[0], link);
        assert_contains(w.messages[0], "cannot stat");
        product_set_done(&set);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_id_is_valid),
                cmocka_unit_test(test_load_good),
                cmocka_unit_test(test_load_minimal_defaults),
                cmocka_unit_test(test_load_variants),
                cmocka_unit_test(test_load_errors),
                cmocka_unit_test(test_load_bad_key_count),
                cmocka_unit_test(test_load_long_name),
                cmocka_unit_test(test_load_unreadable),
                cmocka_unit_test(test_set_precedence),
                cmocka_unit_test(test_set_reverse_precedence),
                cmocka_unit_test(test_set_missing_and_empty),
                cmocka_unit_test(test_set_duplicate_in_other_dir),
                cmocka_unit_test(test_set_mask),
                cmocka_unit_test(test_set_dangling_symlink),
        };

        return cmocka_run_group_tests_name("product", tests, setup, test_tmpdir_teardown);
}
