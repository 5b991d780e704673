/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTPS for licensed-server: libmicrohttpd does TLS with GnuTLS (Debian's
 * build has it); we hand it the PEM certificate chain and key. Without
 * --tls-cert the server speaks plain HTTP, for a TLS terminator in front
 * of it or for loopback. See docs/protocol.md, "TLS". */

#include <assert.h>
#include <microhttpd.h>
#include <sys/stat.h>

#include "fileio.h"
#include "server.h"

#define PEM_MAX (1024 * 1024)

static int read_pem(const char *path, bool secret, char **ret, CoreError *err) {
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len;
        int r;

        r = read_file(path, PEM_MAX, &text, &len);
        if (r < 0)
                return core_error_set(err, r, "cannot read %s: %s", path,
                                      r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        /* Same rule as the signing key: a private key others can read is
         * not private. */
        if (secret && stat(path, &st) == 0 && (st.st_mode & 077))
                return core_error_set(err, EPERM,
                                      "TLS key %s is readable by others (mode %04o); chmod 0600 it", path,
                                      (unsigned) (st.st_mode & 07777));
        if (!strstr(text, "-----BEGIN "))
                return core_error_set(err, EBADMSG, "%s is not a PEM file", path);
        *ret = TAKE_PTR(text);
        return 0;
}

static int read_pair(const char *cert_path, const char *key_path, char **ret_cert, char **ret_key,
                     CoreError *err) {
        _cleanup_free_ char *cert = NULL;
        char *key = NULL;
        int r;

        r = read_pem(cert_path, false, &cert, err);
        if (r < 0)
                return r;
        r = read_pem(key_path, true, &key, err);
        if (r < 0)
                return r;
        *ret_cert = TAKE_PTR(cert);
        *ret_key = key;
        return 0;
}

int server_tls_load(Server *s, const char *cert_path, const char *key_path, CoreError *err) {
        if (!cert_path != !key_path)
                return core_error_set(err, EINVAL, "--tls-cert and --tls-key come together");
        if (!cert_path)
                return 0;
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return core_error_set(
                        err, EOPNOTSUPP,
                        "this libmicrohttpd was built without TLS: run licensed-server behind a TLS "
                        "terminator instead (docs/protocol.md)");
        s->tls_cert_path = cert_path;
        s->tls_key_path = key_path;
        return read_pair(cert_path, key_path, &s->tls_cert, &s->tls_key, err);
}

int server_tls_reread(const Server *s, char **ret_cert, char **ret_key, CoreError *err) {
        assert(s->tls_cert_path && s->tls_key_path);
        return read_pair(s->tls_cert_path, s->tls_key_path, ret_cert, ret_key, err);
}

void server_tls_free(char *cert, char *key) {
        free(cert);
        if (key)
                erase_and_free(key, strlen(key));
}

void server_tls_done(Server *s) {
        server_tls_free(s->tls_cert, s->tls_key);
        s->tls_cert = s->tls_key = NULL;
}
