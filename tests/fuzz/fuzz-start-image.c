/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The start image (licenses.image): start_image_parse() on any bytes either
 * refuses them (-EBADMSG) or gives licenses that the writer turns back into
 * the same bytes; with a product set and shared strings, each license's
 * product is the set's and its shared strings point at the shared ones. */
#include "fuzz.h"
#include "macro.h"
#include "start-image.h"

static const char machine_id[] = "0123456789abcdef0123456789abcdef";

static int write_back(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                      LicenseState *st, void *userdata) {
        StartImageWriter *w = userdata;

        fuzz_check(l->arena != NULL, "not built into one arena");
        fuzz_check(l->id && l->product, "id or product missing");
        start_image_writer_add(w, digest, l, st);
        license_done(l);
        free(st->last_error);
        return 0;
}

static int check_shared(const uint8_t digest[static START_IMAGE_DIGEST_SIZE], License *l, const Product *p,
                        LicenseState *st, void *userdata) {
        fuzz_check(p && l->product == p->id, "product not the set's");
        fuzz_check(!l->machine_id || strcmp(l->machine_id, machine_id) != 0 || l->machine_id == machine_id,
                   "an equal machine id was copied, not shared");
        license_done(l);
        free(st->last_error);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static Product products[2] = {{.id = (char *) "com.example.app"}, {.id = (char *) "com.example.other"}};
        static const ProductSet set = {.products = products, .n_products = 2};
        _cleanup_free_ void *again = NULL;
        StartImageSource src;
        StartImageWriter w;
        uint64_t count;
        size_t again_size;
        int r;

        r = start_image_parse(data, size, &src, &count, NULL, NULL, NULL);
        if (r < 0) {
                fuzz_check(r == -EBADMSG || r == -ENOMEM, "start_image_parse: %d", r);
                return 0;
        }
        start_image_writer_begin(&w, &src);
        r = start_image_parse(data, size, NULL, NULL, NULL, write_back, &w);
        fuzz_check(r == 0, "parsed once, not twice: %d", r);
        fuzz_check(start_image_writer_finish(&w, &again, &again_size) == 0, "writing back failed");
        fuzz_check(again_size == size && memcmp(again, data, size) == 0, "not written back as read");

        r = start_image_parse(data, size, NULL, NULL,
                              &(StartImageShared) {.shared = (const char *const[]) {machine_id, NULL},
                                                   .products = &set},
                              check_shared, NULL);
        fuzz_check(r == 0 || r == -EBADMSG, "with products: %d", r);
        return 0;
}
