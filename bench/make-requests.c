/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Makes what bench/server.sh sends to licensed-server: a vendor key, a
 * database (SQLite file or PostgreSQL URI, through storage.h) that knows
 * some license keys, and two files of ready, signed request bodies, one
 * JSON body a line, for wrk to POST (bench/server.lua):
 *
 *   make-requests DIR DB N [V]
 *
 *   DIR/vendor.key      the vendor's signing key (licensed-server --signing-key)
 *   DIR/activate.json   N activation requests (POST /v1/activate), each of
 *                       another machine, spread over KEYS license keys that
 *                       have seats for all of them: each request takes a
 *                       new seat the first time it is sent
 *   DIR/validate.json   V (default 2000) validation requests (POST
 *                       /v1/validate) of machines activated in DB
 *                       beforehand, on other keys; wrk cycles through them
 *
 * All machines share one device key (a machine is its machine id and
 * device key): the server's work per request is the same. Prints
 * "elapsed_ms=". */

#include <json-c/json.h>
#include <stdio.h>
#include <time.h>

#include "crypto.h"
#include "key-file.h"
#include "license-key.h"
#include "report-error.h"
#include "request.h"
#include "storage.h"
#include "timeutil.h"

#define PRODUCT "com.example.bench"
#define KEYS 16u          /* license keys the activations spread over */
#define VALIDATE_KEYS 16u /* the keys of the machines that validate */

typedef struct Maker {
        EVP_PKEY *device;
        char *device_pub;
        Storage *db;
        unsigned serial; /* machine ids and nonces */
        int64_t now;
} Maker;

static double now_msec(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

/* A key of PRODUCT with seats for every machine of the run. */
static int make_key(Maker *m, uint32_t seats, char key[static LICENSE_KEY_STRING_SIZE], CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        int r;

        e.seats = seats;
        e.license.type = LICENSE_PERPETUAL;
        e.license.revision = 1;
        e.license.validation_interval = 30 * SEC_PER_DAY;
        e.license.grace_period = 14 * SEC_PER_DAY;
        e.license.product = strdup(PRODUCT);
        e.license.licensee = strdup("Benchmark Customer Ltd");
        if (!e.license.product || !e.license.licensee)
                return -ENOMEM;
        r = license_add_feature(&e.license, "reports", TIME_UNSET, 0, err);
        if (r >= 0)
                r = license_key_generate(e.key);
        if (r >= 0)
                r = storage_entitlement_create(m->db, &e, err);
        if (r >= 0)
                memcpy(key, e.key, LICENSE_KEY_STRING_SIZE);
        return r;
}

/* Signs the next machine's request of type (key for an activation,
 * license_id for a validation) and writes it as one JSON line to f. */
static int write_request(Maker *m, FILE *f, MachineRequestType type, const char *key, const char *license_id,
                         char machine_id[static 33]) {
        _cleanup_free_ char *text = NULL;
        char nonce[33];
        json_object *o;
        int r;

        m->serial++;
        snprintf(machine_id, 33, "%032x", m->serial);
        snprintf(nonce, sizeof(nonce), "%08x%024x", (unsigned) m->now, m->serial);
        r = machine_request_sign(
                &(MachineRequest){
                        .type = type,
                        .product = (char *) PRODUCT,
                        .key = (char *) key,
                        .license_id = (char *) license_id,
                        .revision = license_id ? 1 : 0,
                        .machine_id = machine_id,
                        .device_key = m->device_pub,
                        .nonce = nonce,
                        .created = m->now,
                        .hostname = (char *) "bench.example.com",
                },
                m->device, &text);
        if (r < 0)
                return r;
        o = json_object_new_object();
        if (!o)
                return -ENOMEM;
        json_object_object_add(o, "request", json_object_new_string(text));
        fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return ferror(f) ? -EIO : 0;
}

/* A machine that holds a seat of key under license_id, and its request. */
static int write_validation(Maker *m, FILE *f, const char *key, unsigned i, CoreError *err) {
        _cleanup_(entitlement_done) Entitlement e = ENTITLEMENT_INIT;
        _cleanup_(activation_done) Activation a = {};
        char license_id[32], machine_id[33];
        int r;

        snprintf(license_id, sizeof(license_id), "bench-v%06u", i);
        r = write_request(m, f, MACHINE_REQUEST_VALIDATION, NULL, license_id, machine_id);
        if (r < 0)
                return r;
        r = storage_activate(m->db,
                             &(ActivationClaim){.key = key,
                                                .product = PRODUCT,
                                                .license_id = license_id,
                                                .machine_id = machine_id,
                                                .device_key = m->device_pub,
                                                .nonce = "00000000000000000000000000000000",
                                                .now = m->now},
                             &e, &a, err);
        return r > STORAGE_OK ? core_error_set(err, EPERM, "activating %s: %s", license_id, err->message) : r;
}

static FILE *open_out(const char *dir, const char *name) {
        _cleanup_free_ char *p = NULL;

        if (asprintf(&p, "%s/%s", dir, name) < 0)
                return NULL;
        return fopen(p, "we");
}

int main(int argc, char *argv[]) {
        _cleanup_pkey_ EVP_PKEY *vendor = NULL, *device = NULL;
        _cleanup_free_ char *device_pub = NULL, *vendor_path = NULL;
        _cleanup_(storage_closep) Storage *db = NULL;
        char keys[KEYS][LICENSE_KEY_STRING_SIZE], vkeys[VALIDATE_KEYS][LICENSE_KEY_STRING_SIZE],
                machine_id[33];
        double start = now_msec();
        CoreError err = {};
        FILE *act = NULL, *val = NULL;
        unsigned long n, v = 2000;
        int r;

        if (argc < 4 || argc > 5 || (n = strtoul(argv[3], NULL, 10)) == 0 || n > 10000000 ||
            (argc == 5 && ((v = strtoul(argv[4], NULL, 10)) == 0 || v > 1000000))) {
                fprintf(stderr, "usage: make-requests DIR DB N [V] (1 <= N <= 10000000, 1 <= V <= 1000000)\n");
                return 2;
        }
        if (asprintf(&vendor_path, "%s/vendor.key", argv[1]) < 0)
                return report_error(1, "out of memory");
        r = ed25519_generate(&vendor);
        if (r >= 0)
                r = ed25519_save_private(vendor, vendor_path, &err);
        if (r >= 0)
                r = ed25519_generate(&device);
        if (r >= 0)
                r = ed25519_public_base64(device, &device_pub);
        if (r < 0)
                return report_error(1, "keys: %s", core_error_message(&err, r));
        r = storage_open(argv[2], &db, &err);
        if (r < 0)
                return report_error(1, "%s: %s", argv[2], core_error_message(&err, r));

        Maker m = {.device = device, .device_pub = device_pub, .db = db, .now = now_realtime()};
        for (unsigned k = 0; r >= 0 && k < KEYS; k++)
                r = make_key(&m, (uint32_t) (n / KEYS + 1), keys[k], &err);
        for (unsigned k = 0; r >= 0 && k < VALIDATE_KEYS; k++)
                r = make_key(&m, (uint32_t) (v / VALIDATE_KEYS + 1), vkeys[k], &err);
        if (r < 0)
                return report_error(1, "license keys: %s", core_error_message(&err, r));

        act = open_out(argv[1], "activate.json");
        val = open_out(argv[1], "validate.json");
        if (!act || !val)
                return report_error(1, "%s: cannot write the request files: %m", argv[1]);
        for (unsigned long i = 0; r >= 0 && i < n; i++)
                r = write_request(&m, act, MACHINE_REQUEST_ACTIVATION, keys[i % KEYS], NULL, machine_id);
        for (unsigned i = 0; r >= 0 && i < v; i++)
                r = write_validation(&m, val, vkeys[i % VALIDATE_KEYS], i, &err);
        if (fclose(act) != 0 && r >= 0)
                r = -errno;
        if (fclose(val) != 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return report_error(1, "requests: %s", core_error_message(&err, r));
        printf("elapsed_ms=%.0f\n", now_msec() - start);
        return 0;
}
