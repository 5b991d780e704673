/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* product_load_file() on any file content (products.d/NAME.conf): the input
 * is written to a file in a private temporary directory. Loaded products
 * are checked against the rules the rest of the code relies on. */
#include "fuzz.h"
#include "product.h"
#include "strutil.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(product_done) Product p = {};
        CoreError err = {};
        const char *path;
        int r;

        if (fuzz_has_include(data, size))
                return 0;
        path = fuzz_write_file("product.conf", data, size);

        r = product_load_file(path, &p, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "product_load_file");
                return 0;
        }
        fuzz_check(product_id_is_valid(p.id), "invalid product id '%s' accepted", p.id);
        fuzz_check(p.name && p.name[0], "empty name accepted");
        fuzz_check(p.n_trust_keys >= 1 && p.n_trust_keys <= 16, "%zu trust keys accepted", p.n_trust_keys);
        for (size_t i = 0; i < p.n_trust_keys; i++) {
                fuzz_check(p.trust_keys[i].key, "trust key %zu is NULL", i);
                fuzz_check(product_find_trust_key(&p, p.trust_keys[i].id) == p.trust_keys[i].key,
                           "trust key %zu cannot be found by its id", i);
        }
        fuzz_check(p.validation_interval >= 0 && p.grace_period >= 0, "negative duration accepted");
        return 0;
}
