/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* armor_decode() on any text, then what the daemon does with an armored
 * document it is given (daemon/install.c): re-encode it canonically and
 * decode that again, which must give the same document. */
#include "armor.h"
#include "fuzz.h"
#include "strutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(armor_done) Armor a = {}, b = {}, c = {};
        _cleanup_free_ char *canonical = NULL;
        CoreError err = {};
        int r;

        r = armor_decode((const char *) data, size, NULL, &a, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "armor_decode");
                return 0;
        }
        fuzz_check(a.body && a.body_len > 0, "decoded without a body");
        fuzz_check(strnlen(a.kind, sizeof(a.kind)) < sizeof(a.kind), "kind not terminated");
        fuzz_check(hex_is_valid(a.key_id, KEY_ID_STRING_SIZE - 1), "bad key id '%s' accepted", a.key_id);

        /* The same block, asked for by its own kind. */
        err = (CoreError) {};
        r = armor_decode((const char *) data, size, a.kind, &c, &err);
        fuzz_check(r >= 0, "decodes without expected kind but not as a %s: %s", a.kind,
                   core_error_message(&err, r));

        r = armor_encode(a.kind, a.key_id, a.signature, a.body, a.body_len, &canonical);
        fuzz_check(r >= 0, "armor_encode of a decoded block failed: %d", r);
        err = (CoreError) {};
        r = armor_decode(canonical, strlen(canonical), a.kind, &b, &err);
        fuzz_check(r >= 0, "the canonical form does not decode: %s", core_error_message(&err, r));
        fuzz_check(streq(a.kind, b.kind) && streq(a.key_id, b.key_id) &&
                           memcmp(a.signature, b.signature, sizeof(a.signature)) == 0 &&
                           a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0,
                   "the canonical form decodes to another document");
        return 0;
}
