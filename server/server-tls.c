/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* HTTPS for licensed-server: libmicrohttpd does TLS with GnuTLS (Debian's
 * build has it); we hand it the PEM certificate chain and key. Without
 * --tls-cert the server speaks plain HTTP, for a TLS terminator in front
 * of it or for loopback. See docs/protocol.md, "TLS". */

#include <assert.h>
#include <microhttpd.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
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

/* The pair parses and belongs together, said in our words before
 * libmicrohttpd sees it: GnuTLS's refusal comes without a reason, and a
 * daemon that fails to start on a bad pair leaks what GnuTLS parsed. */
static int check_pair(const char *cert_path, const char *cert, const char *key_path, const char *key,
                      CoreError *err) {
        BIO *b;
        X509 *x;
        EVP_PKEY *k;
        int r = 0;

        b = BIO_new_mem_buf(cert, -1);
        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        b = BIO_new_mem_buf(key, -1);
        k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (!x)
                r = core_error_set(err, EBADMSG, "%s: no PEM certificate could be read", cert_path);
        else if (!k)
                r = core_error_set(err, EBADMSG, "%s: no unencrypted PEM private key could be read", key_path);
        else if (X509_check_private_key(x, k) != 1)
                r = core_error_set(err, EKEYREJECTED, "%s is not the key of the certificate in %s", key_path,
                                   cert_path);
        X509_free(x);
        EVP_PKEY_free(k);
        ERR_clear_error();
        return r;
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
        r = check_pair(cert_path, cert, key_path, key, err);
        if (r < 0) {
                server_tls_free(NULL, key);
                return r;
        }
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
