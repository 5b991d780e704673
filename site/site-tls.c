/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The site's TLS certificate: self-signed, made with OpenSSL on the first
 * start, since a LAN server has no name a public CA would vouch for.
 * Clients pin it by its SHA-256 fingerprint at enrolment (docs/floating.md).
 * libmicrohttpd (GnuTLS) gets the PEM texts. */

#include <openssl/ec.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fileio.h"
#include "log.h"
#include "site.h"

#define PEM_MAX (64 * 1024)
#define CERT_DAYS (10 * 365)

DEFINE_TRIVIAL_CLEANUP_FUNC(X509 *, X509_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free);

static int bio_text(BIO *b, char **ret) {
        char *data, *text;
        long n = BIO_get_mem_data(b, &data);

        if (n <= 0)
                return -EIO;
        /* Not NUL-terminated: copied by length, not read as a string. */
        text = malloc((size_t) n + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, data, (size_t) n);
        text[n] = 0;
        *ret = text;
        return 0;
}

/* The certificate and its key as PEM texts. */
static int make_certificate(const char *site_id, char **ret_cert, char **ret_key) {
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        _cleanup_(X509_freep) X509 *x = NULL;
        _cleanup_(BIO_freep) BIO *kb = NULL, *cb = NULL;
        _cleanup_free_ char *cert = NULL;
        char cn[64];
        uint8_t serial[16];
        BIGNUM *bn;
        X509_NAME *name;
        int r;

        key = EVP_EC_gen("P-256");
        x = X509_new();
        if (!key || !x)
                return -EIO;
        r = random_bytes(serial, sizeof(serial));
        if (r < 0)
                return r;
        serial[0] &= 0x7f; /* a positive serial number */
        bn = BN_bin2bn(serial, sizeof(serial), NULL);
        if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x))) {
                BN_free(bn);
                return -EIO;
        }
        BN_free(bn);
        snprintf(cn, sizeof(cn), "licensed-site %s", site_id);
        name = X509_get_subject_name(x);
        if (X509_set_version(x, 2) != 1 || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
            !X509_time_adj_ex(X509_getm_notAfter(x), CERT_DAYS, 0, NULL) ||
            X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, name) != 1 || X509_set_pubkey(x, key) != 1 ||
            X509_sign(x, key, EVP_sha256()) <= 0)
                return -EIO;

        kb = BIO_new(BIO_s_mem());
        cb = BIO_new(BIO_s_mem());
        if (!kb || !cb || PEM_write_bio_PrivateKey(kb, key, NULL, NULL, 0, NULL, NULL) != 1 ||
            PEM_write_bio_X509(cb, x) != 1)
                return -EIO;
        r = bio_text(cb, &cert);
        if (r >= 0)
                r = bio_text(kb, ret_key);
        if (r < 0)
                return r;
        *ret_cert = TAKE_PTR(cert);
        return 0;
}

static int fingerprint(const char *pem, char *out, size_t size) {
        _cleanup_(BIO_freep) BIO *b = BIO_new_mem_buf(pem, -1);
        _cleanup_(X509_freep) X509 *x = NULL;
        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned n = 0;

        x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        if (!x || X509_digest(x, EVP_sha256(), md, &n) != 1 || n * 3 > size)
                return -EBADMSG;
        for (unsigned i = 0; i < n; i++)
                snprintf(out + 3 * i, 4, i + 1 < n ? "%02X:" : "%02X", md[i]);
        return 0;
}

int site_tls_load(Site *s, bool create, CoreError *err) {
        _cleanup_free_ char *cert_path = NULL, *key_path = NULL;
        struct stat st;
        size_t len;
        int r;

        if (asprintf(&cert_path, "%s/tls.crt", s->state_dir) < 0 ||
            asprintf(&key_path, "%s/tls.key", s->state_dir) < 0)
                return -ENOMEM;
        r = read_file(cert_path, PEM_MAX, &s->tls_cert, &len);
        if (r >= 0)
                r = read_file(key_path, PEM_MAX, &s->tls_key, &len);
        if (r == -ENOENT && create) {
                free(s->tls_cert);
                s->tls_cert = NULL;
                r = make_certificate(s->id, &s->tls_cert, &s->tls_key);
                if (r < 0)
                        return core_error_set(err, r, "cannot make the TLS certificate: %s", strerror(-r));
                /* The key first: a certificate without its key would be useless. */
                r = write_file_atomic(key_path, s->tls_key, strlen(s->tls_key), 0600);
                if (r >= 0)
                        r = write_file_atomic(cert_path, s->tls_cert, strlen(s->tls_cert), 0644);
                if (r < 0)
                        return core_error_set(err, r, "cannot write the TLS certificate to %s: %s", s->state_dir,
                                              strerror(-r));
                log_info("Made the TLS certificate %s.", cert_path);
        } else if (r < 0)
                return core_error_set(err, r, "cannot read %s or %s: %s", cert_path, key_path, strerror(-r));
        if (stat(key_path, &st) == 0 && (st.st_mode & 077))
                return core_error_set(err, EPERM, "TLS key %s is readable by others (mode %04o); chmod 0600 it",
                                      key_path, (unsigned) (st.st_mode & 07777));
        r = fingerprint(s->tls_cert, s->fingerprint, sizeof(s->fingerprint));
        if (r < 0)
                return core_error_set(err, r, "%s is not a PEM certificate", cert_path);
        return 0;
}
