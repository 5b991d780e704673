/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A "libcurl.so.4" without libcurl's functions, for the test that licensed
 * names what is wrong when the library it loads at its first request is
 * not the one it needs (test_online.py). */
int fake_libcurl_marker(void);
int fake_libcurl_marker(void) {
        return 0;
}
