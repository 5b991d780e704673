/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>

#include "curl-api.h"
#include "macro.h"

#define CURL_SONAME "libcurl.so.4"

static CurlApi api;
static void *lib_handle;
static int load_result;
static char load_error[256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static const struct {
        const char *symbol;
        size_t offset;
} symbols[] = {
#define SYM(name) {"curl_" #name, offsetof(CurlApi, name)}
        SYM(global_init),      SYM(global_cleanup),   SYM(easy_init),           SYM(easy_cleanup),
        SYM(easy_setopt),      SYM(easy_getinfo),     SYM(easy_strerror),       SYM(multi_init),
        SYM(multi_cleanup),    SYM(multi_setopt),     SYM(multi_add_handle),    SYM(multi_remove_handle),
        SYM(multi_assign),     SYM(multi_socket_action), SYM(multi_info_read),  SYM(slist_append),
        SYM(slist_free_all),
#undef SYM
};

/* Every member is a function pointer, each filled in from the table. */
_Static_assert(sizeof(CurlApi) == ELEMENTSOF(symbols) * sizeof(void (*)(void)),
               "every CurlApi member has its symbol");

static void load(void) {
        CurlApi loaded;
        void *lib;

        lib = dlopen(CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!lib) {
                snprintf(load_error, sizeof(load_error), "cannot load %s (is libcurl4 installed?): %s",
                         CURL_SONAME, dlerror());
                load_result = -ENOENT;
                return;
        }
        for (size_t i = 0; i < ELEMENTSOF(symbols); i++) {
                void *f = dlsym(lib, symbols[i].symbol);
                if (!f) {
                        snprintf(load_error, sizeof(load_error), "%s has no %s: %s", CURL_SONAME,
                                 symbols[i].symbol, dlerror());
                        load_result = -ELIBBAD;
                        dlclose(lib);
                        return;
                }
                /* POSIX guarantees a data pointer from dlsym() converts to
                 * the function pointer it names. */
                memcpy((char *) &loaded + symbols[i].offset, &f, sizeof(f));
        }
        api = loaded;
        lib_handle = lib;
}

void *curl_api_symbol(const char *name) {
        pthread_once(&once, load);
        return load_result < 0 || !lib_handle ? NULL : dlsym(lib_handle, name);
}

int curl_api_get(const CurlApi **ret, const char **ret_error) {
        pthread_once(&once, load);
        if (load_result < 0) {
                if (ret_error)
                        *ret_error = load_error;
                return load_result;
        }
        *ret = &api;
        return 0;
}
