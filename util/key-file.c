/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "key-file.h"
#include "macro.h"

int ed25519_load_private(const char *path, EVP_PKEY **ret, CoreError *err) {
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;
        EVP_PKEY *key;

        assert(path);
        assert(ret);

        f = fopen(path, "re");
        if (!f)
                return core_error_set(err, errno, "cannot open private key %s: %m", path);
        if (fstat(fileno(f), &st) < 0)
                return core_error_set(err, errno, "cannot stat %s: %m", path);
        if (st.st_mode & 0077)
                return core_error_set(err, EPERM,
                                      "private key %s is readable by others (mode %04o); chmod 0600 it",
                                      path, (unsigned) (st.st_mode & 07777));
        key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        if (!key)
                return core_error_set(err, EBADMSG, "%s is not a PEM private key", path);
        if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(key);
                return core_error_set(err, EBADMSG, "%s is not an Ed25519 key", path);
        }
        *ret = key;
        return 0;
}

int ed25519_save_private(EVP_PKEY *key, const char *path, CoreError *err) {
        BIO *bio;
        char *pem;
        long n;
        int r;

        assert(key);
        assert(path);

        bio = BIO_new(BIO_s_mem());
        if (!bio)
                return -ENOMEM;
        if (PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL) <= 0) {
                BIO_free(bio);
                return core_error_set(err, EIO, "cannot serialize private key");
        }
        n = BIO_get_mem_data(bio, &pem);
        r = write_file_atomic(path, pem, (size_t) n, 0600);
        BIO_free_all(bio); /* BIO_free on a mem BIO wipes nothing; the key is also on disk now */
        if (r < 0)
                return core_error_set(err, r, "cannot write %s: %s", path, strerror(-r));
        return 0;
}
