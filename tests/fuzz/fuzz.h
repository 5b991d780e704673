/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* Shared by the libFuzzer targets in tests/fuzz/: the committed test keys,
 * a fixed set of installed products, a private temporary directory for the
 * parsers that take paths, and the checks every target makes on the
 * results. See tests/fuzz/README.md. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "product.h"

/* The product the test vectors are issued for; trusts tests/vectors/vendor.pub. */
#define FUZZ_PRODUCT "com.example.app"
/* Installed too, but trusts only tests/vectors/device.pub: a document signed
 * by the vendor key that names it must be refused (-EPERM). */
#define FUZZ_OTHER_PRODUCT "com.example.other"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Prints "fuzz: <what>" and aborts, so libFuzzer records the input as a crash. */
_printf_(1, 2) __attribute__((noreturn)) void fuzz_fail(const char *fmt, ...);

#define fuzz_check(expr, ...)                                                                               \
        do {                                                                                                \
                if (!(expr))                                                                                \
                        fuzz_fail(__VA_ARGS__);                                                             \
        } while (0)

/* A NUL-terminated copy of the input (for APIs that take C strings). */
char *fuzz_strndup(const uint8_t *data, size_t size);

/* tests/vectors/vendor.pub and vendor.key, loaded once. */
EVP_PKEY *fuzz_vendor_public(void);
EVP_PKEY *fuzz_vendor_private(void);

/* FUZZ_PRODUCT and FUZZ_OTHER_PRODUCT, built once. */
const ProductSet *fuzz_products(void);

/* Writes data to NAME in a directory private to this process (made on first
 * use, removed at exit) and returns the path, valid until the next call. */
const char *fuzz_write_file(const char *name, const uint8_t *data, size_t size);

/* Checks a failed call: a negative errno, and a message (if any) that is
 * printable UTF-8, as utf8_is_printable() defines it, since messages go out in
 * D-Bus errors and to terminals. LICENSED_FUZZ_MESSAGES=0 turns the message
 * check off (to look for other bugs behind a known message bug). Returns r. */
int fuzz_check_error(int r, const CoreError *err, const char *what);

/* True if the text has "include" in any case. libconfig follows
 * '@include "PATH"' to any file on the host, and a fuzzer running as root
 * must not open /dev or /proc files: the config and product targets skip
 * such inputs (README.md, "libconfig @include"). */
bool fuzz_has_include(const uint8_t *data, size_t size);
