/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed_config_load() on any file content (/etc/licensed/licensed.conf):
 * the input is written to a file in a private temporary directory. A file
 * that fails to load must leave the configuration as it was. */
#include "config.h"
#include "fuzz.h"
#include "strutil.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_(licensed_config_done) Config c = {};
        CoreError err = {};
        const char *path;
        Config before;
        int r;

        if (fuzz_has_include(data, size))
                return 0;
        path = fuzz_write_file("licensed.conf", data, size);

        licensed_config_init(&c);
        before = c;
        r = licensed_config_load(&c, path, &err);
        if (r < 0) {
                fuzz_check_error(r, &err, "licensed_config_load");
                fuzz_check(memcmp(&before, &c, sizeof(c)) == 0, "a failed load changed the configuration");
                return 0;
        }
        fuzz_check(c.idle_timeout >= 0 && c.max_grace_period >= 0 && c.clock_tolerance >= 0 &&
                           c.http_timeout > 0,
                   "negative or zero duration accepted");
        fuzz_check(!c.ca_file || c.ca_file[0] == '/', "relative ca_file accepted");
        return 0;
}
