/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hardware id of trial requests (hardware-id.h): derived as root from
 * the DMI system UUID, read by the daemon from its runtime directory. */

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bus-contract.h"
#include "fileio.h"
#include "hardware-id.h"
#include "macro.h"
#include "strutil.h"
#include "text-check.h"

#define UUID_LEN 36

/* What firmware writes when nobody set a UUID: shared by every machine of
 * its kind, so as a hardware id it would make them all one machine. */
static const char *const placeholder_uuids[] = {
        "00000000-0000-0000-0000-000000000000",
        "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "03000200-0400-0500-0006-000700080009",
};

/* 8-4-4-4-12 hex digits, lower-cased into out. */
static int uuid_normalize(const char *s, char out[static UUID_LEN + 1]) {
        if (strlen(s) != UUID_LEN)
                return -EINVAL;
        for (size_t i = 0; i < UUID_LEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash ? s[i] != '-' : !isxdigit((unsigned char) s[i]))
                        return -EINVAL;
                out[i] = (char) tolower((unsigned char) s[i]);
        }
        out[UUID_LEN] = 0;
        return 0;
}

int hardware_id_derive(const char *uuid, char out[static HARDWARE_ID_HEX_LEN + 1]) {
        _cleanup_free_ char *copy = strdup(uuid);
        char norm[UUID_LEN + 1];
        uint8_t mac[EVP_MAX_MD_SIZE];
        unsigned mac_len = 0;
        int r;

        if (!copy)
                return -ENOMEM;
        r = uuid_normalize(strstrip(copy), norm);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(placeholder_uuids); i++)
                if (streq(norm, placeholder_uuids[i]))
                        return -ENODATA;

        /* Keyed with the application id: another program deriving its own id
         * from the same UUID gets an unrelated one. */
        if (!HMAC(EVP_sha256(), LICENSED_APP_ID.bytes, sizeof(LICENSED_APP_ID.bytes), (const uint8_t *) norm,
                  UUID_LEN, mac, &mac_len) ||
            mac_len < HARDWARE_ID_HEX_LEN / 2)
                return -EIO;
        for (size_t i = 0; i < HARDWARE_ID_HEX_LEN / 2; i++)
                snprintf(out + 2 * i, 3, "%02x", mac[i]);
        return 0;
}

int hardware_id_write(const char *dmi_path, const char *path, int *ret_why) {
        _cleanup_free_ char *uuid = NULL;
        char id[HARDWARE_ID_HEX_LEN + 2];
        int r;

        /* sysfs reports 4096 bytes for every attribute. */
        r = read_file(dmi_path, 4096, &uuid, NULL);
        if (r >= 0)
                r = hardware_id_derive(uuid, id);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (ret_why)
                        *ret_why = r;
                if (unlink(path) < 0 && errno != ENOENT)
                        return -errno;
                return 0;
        }
        id[HARDWARE_ID_HEX_LEN] = '\n';
        id[HARDWARE_ID_HEX_LEN + 1] = 0;
        r = write_file_atomic(path, id, HARDWARE_ID_HEX_LEN + 1, 0644);
        return r < 0 ? r : 1;
}

int hardware_id_read(const char *runtime_dir, char out[static HARDWARE_ID_HEX_LEN + 1]) {
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len = 0;
        int r;

        if (asprintf(&path, "%s/" HARDWARE_ID_FILE, runtime_dir) < 0)
                return -ENOMEM;
        r = read_file(path, 64, &text, &len);
        if (r == -EFBIG)
                return -EBADMSG;
        if (r < 0)
                return r;
        if (len != HARDWARE_ID_HEX_LEN + 1 || text[HARDWARE_ID_HEX_LEN] != '\n')
                return -EBADMSG;
        text[HARDWARE_ID_HEX_LEN] = 0;
        if (!hex_is_valid(text, HARDWARE_ID_HEX_LEN))
                return -EBADMSG;
        memcpy(out, text, HARDWARE_ID_HEX_LEN + 1);
        return 0;
}
