/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes a state directory with N installed licenses for the benchmark,
 * quickly: signing in process instead of N offline activations.
 *
 *   make-licenses DIR N [BUSY] [--server URL]
 *     (--server: online licenses and the server's database, for bench/validate.sh)
 *
 * Writes, under DIR:
 *   vendor.key                 the vendor's signing key (PKCS#8 PEM)
 *   products/ID.conf           com.example.bench and com.example.bench.p000 ... p099,
 *                              each trusting the vendor key
 *   state/device.key           this machine's device key, as licensed would create it
 *   state/licenses/ID.lic      N licenses bound to this machine: the first BUSY
 *                              (default 1), from bench-00000, for
 *                              com.example.bench, the busiest product, which the
 *                              benchmark asks; the others spread over the 100
 *                              other products; each with the features reports,
 *                              export and seats (limit 10)
 *   licensed.conf              idle_timeout = 0
 *
 * A .lic without a .state is a complete installed license (daemon/store.h),
 * installed at the file's mtime and never validated; the licenses ask for no
 * validation (validation-interval 0), so they stay "licensed". Prints
 * "first=" the path of bench-00000.lic and "elapsed_ms=" the time taken
 * (CLOCK_MONOTONIC).
 *
 * With --server URL the products name URL as their licensing server, the
 * licenses ask for validation every 30 days (14 days of grace), and
 * DIR/server.db is the database of a licensed-server that knows them: one
 * entitlement per license (one seat), held by this machine, as if each had
 * been activated online. Run licensed-server on URL with --db DIR/server.db
 * --signing-key DIR/vendor.key. */

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <systemd/sd-id128.h>
#include <time.h>

#include "bus-contract.h" /* LICENSED_APP_ID: the machine id the daemon binds licenses to */
#include "crypto.h"
#include "key-file.h"
#include "license.h"
#include "macro.h"
#include "report-error.h"
#include "storage.h"
#include "timeutil.h"


#define BENCH_PRODUCT "com.example.bench"
#define N_OTHER_PRODUCTS 100u

static int write_file(const char *path, const char *text, mode_t mode) {
        _cleanup_close_ int fd = -1;
        size_t len = strlen(text);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        while (len > 0) {
                ssize_t n = write(fd, text, len);
                if (n < 0)
                        return -errno;
                text += n;
                len -= (size_t) n;
        }
        return 0;
}

static int make_dir(const char *dir, const char *sub, mode_t mode) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s%s%s", dir, sub ? "/" : "", sub ?: "") < 0)
                return -ENOMEM;
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

static int write_product(const char *dir, const char *id, const char *trust_key, const char *server_url) {
        _cleanup_free_ char *path = NULL, *text = NULL;

        if (asprintf(&path, "%s/products/%s.conf", dir, id) < 0 ||
            asprintf(&text, "id = \"%s\";\nname = \"Benchmark product %s\";\ntrusted_keys = [ \"%s\" ];\n%s%s%s", id,
                     id, trust_key, server_url ? "server_url = \"" : "", server_url ?: "", server_url ? "\";\n" : "") < 0)
                return -ENOMEM;
        return write_file(path, text, 0644);
}

static const char *product_of(unsigned i, unsigned long busy, char buf[static 64]) {
        if (i < busy)
                return BENCH_PRODUCT;
        snprintf(buf, 64, BENCH_PRODUCT ".p%03lu", (i - busy) % N_OTHER_PRODUCTS);
        return buf;
}

static double now_msec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int fail(const char *what, int r) {
        return report_error(1, "%s: %s", what, strerror(-r));
}

/* The server's side of license l: an entitlement of one seat that grants
 * what l grants, and this machine's activation of it under l's id. */
static int server_knows(Storage *db, const License *l, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT, got = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        int r;

        e.seats = 1;
        e.license.type = l->type;
        e.license.revision = l->revision;
        e.license.product = strdup(l->product);
        e.license.licensee = strdup(l->licensee);
        e.license.validation_interval = l->validation_interval;
        e.license.grace_period = l->grace_period;
        if (!e.license.product || !e.license.licensee)
                return -ENOMEM;
        for (size_t k = 0; k < l->n_features; k++) {
                r = license_add_feature(&e.license, l->features[k].name, TIME_UNSET, l->features[k].limit, err);
                if (r < 0)
                        return r;
        }
        r = license_key_generate(e.key);
        if (r >= 0)
                r = storage_entitlement_create(db, &e, err);
        if (r >= 0)
                r = storage_activate(db,
                                     &(ActivationClaim) {.key = e.key, .product = l->product, .license_id = l->id,
                                                         .machine_id = l->machine_id, .device_key = l->device_key,
                                                         .nonce = "00000000000000000000000000000000",
                                                         .now = now_realtime()},
                                     &got, &a, err);
        if (r > STORAGE_OK)
                return -EPERM; /* a fresh key with one seat: cannot happen */
        return r;
}

int main(int argc, char *argv[]) {
        _cleanup_pkey_ EVP_PKEY *vendor = NULL, *device = NULL;
        _cleanup_free_ char *vendor_pub = NULL, *device_pub = NULL, *device_path = NULL, *vendor_path = NULL,
                            *conf_path = NULL, *first = NULL;
        _cleanup_(storage_closep) Storage *db = NULL;
        char machine_id[SD_ID128_STRING_MAX], buf[64];
        const char *server_url = NULL;
        CoreError err = {};
        double start = now_msec();
        const char *dir;
        unsigned long n, busy = 1;
        sd_id128_t id;
        int r;

        if (argc >= 5 && streq(argv[argc - 2], "--server")) {
                server_url = argv[argc - 1];
                argc -= 2;
        }
        if (argc < 3 || argc > 4 || (n = strtoul(argv[2], NULL, 10)) == 0 || n > 1000000 ||
            (argc == 4 && ((busy = strtoul(argv[3], NULL, 10)) == 0 || busy > n))) {
                fprintf(stderr, "usage: make-licenses DIR N [BUSY] [--server URL] (1 <= BUSY <= N <= 1000000)\n");
                return 2;
        }
        dir = argv[1];
        if (server_url) {
                _cleanup_free_ char *db_path = NULL;

                if (make_dir(dir, NULL, 0755) < 0 || asprintf(&db_path, "%s/server.db", dir) < 0)
                        return fail(dir, -ENOMEM);
                r = storage_open(db_path, &db, &err);
                if (r < 0)
                        return report_error(1, "%s: %s", db_path, core_error_message(&err, r));
        }

        r = sd_id128_get_machine_app_specific(LICENSED_APP_ID, &id);
        if (r < 0)
                return fail("machine id", r);
        sd_id128_to_string(id, machine_id);

        if ((r = make_dir(dir, NULL, 0755)) < 0 || (r = make_dir(dir, "products", 0755)) < 0 ||
            (r = make_dir(dir, "state", 0700)) < 0 || (r = make_dir(dir, "state/licenses", 0700)) < 0)
                return fail(dir, r);

        /* The device key first, as the daemon would create it. */
        if (asprintf(&device_path, "%s/state/device.key", dir) < 0 ||
            asprintf(&vendor_path, "%s/vendor.key", dir) < 0 || asprintf(&conf_path, "%s/licensed.conf", dir) < 0)
                return fail("path", -ENOMEM);
        r = ed25519_generate(&device);
        if (r >= 0)
                r = ed25519_save_private(device, device_path, &err);
        if (r >= 0)
                r = ed25519_public_base64(device, &device_pub);
        if (r < 0)
                return fail("device key", r);
        r = ed25519_generate(&vendor);
        if (r >= 0)
                r = ed25519_save_private(vendor, vendor_path, &err);
        if (r >= 0)
                r = ed25519_public_base64(vendor, &vendor_pub);
        if (r < 0)
                return fail("vendor key", r);

        r = write_product(dir, BENCH_PRODUCT, vendor_pub, server_url);
        for (unsigned i = busy; r >= 0 && i < busy + N_OTHER_PRODUCTS && i < n; i++)
                r = write_product(dir, product_of(i, busy, buf), vendor_pub, server_url);
        if (r < 0)
                return fail("product file", r);

        r = write_file(conf_path, "idle_timeout = 0;\n", 0644);
        if (r < 0)
                return fail(conf_path, r);

        for (unsigned i = 0; i < n; i++) {
                _cleanup_(license_done) License l = LICENSE_INIT;
                _cleanup_free_ char *text = NULL, *lid = NULL, *lic = NULL;

                license_init(&l);
                if (asprintf(&lid, "bench-%05u", i) < 0 || asprintf(&lic, "%s/state/licenses/%s.lic", dir, lid) < 0)
                        return fail("path", -ENOMEM);
                l.id = strdup(lid);
                l.product = strdup(product_of(i, busy, buf));
                l.licensee = strdup("Benchmark Customer Ltd");
                l.machine_id = strdup(machine_id);
                l.device_key = strdup(device_pub);
                if (!l.id || !l.product || !l.licensee || !l.machine_id || !l.device_key)
                        return fail("license", -ENOMEM);
                l.revision = 1;
                l.type = LICENSE_PERPETUAL;
                l.issued = now_realtime() - 3600;
                l.validation_interval = server_url ? 30 * SEC_PER_DAY : 0;
                if (server_url)
                        l.grace_period = 14 * SEC_PER_DAY;
                r = license_add_feature(&l, "reports", TIME_UNSET, 0, &err);
                if (r >= 0)
                        r = license_add_feature(&l, "export", TIME_UNSET, 0, &err);
                if (r >= 0)
                        r = license_add_feature(&l, "seats", TIME_UNSET, 10, &err);
                if (r >= 0)
                        r = license_sign(&l, vendor, &text);
                if (r < 0)
                        return fail("license", r);
                if (db) {
                        r = server_knows(db, &l, &err);
                        if (r < 0)
                                return report_error(1, "server database: %s", core_error_message(&err, r));
                }
                r = write_file(lic, text, 0600);
                if (r < 0)
                        return fail(lic, r);
                if (i == 0)
                        first = TAKE_PTR(lic);
        }
        printf("first=%s\nelapsed_ms=%.0f\n", first, now_msec() - start);
        return 0;
}
