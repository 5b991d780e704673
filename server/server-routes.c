/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What licensed-server answers where, and which bodies it reads: the
 * routing table and the Content-Type rule, apart from libmicrohttpd so
 * that they can be tested on their own. */

#include <assert.h>
#include <strings.h>

#include "server.h"

static const Route routes[] = {
        {"POST", "/v1/activate", api_activate},
        {"POST", "/v1/validate", api_validate},
        {"POST", "/v1/deactivate", api_deactivate},
        {"POST", "/v1/offline", api_offline},
        {"GET", "/v1/health", api_health},
        {"GET", "/", NULL},
        {"GET", "/offline", NULL},
};

const Route *route_find(const char *method, const char *path, bool *ret_path_known) {
        bool head;

        assert(method);
        assert(path);
        assert(ret_path_known);

        head = streq(method, "HEAD");
        *ret_path_known = false;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                if (!streq(path, routes[i].path))
                        continue;
                *ret_path_known = true;
                if (streq(method, routes[i].method) || (head && streq(routes[i].method, "GET")))
                        return &routes[i];
        }
        return NULL;
}

size_t route_count(void) {
        return ELEMENTSOF(routes);
}

const Route *route_get(size_t i) {
        assert(i < ELEMENTSOF(routes));
        return &routes[i];
}

size_t route_index(const Route *r) {
        return r ? (size_t) (r - routes) : SIZE_MAX;
}

const char *route_allow(const char *path) {
        const char *allow = NULL;

        assert(path);

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (streq(routes[i].path, path))
                        allow = streq(routes[i].method, "GET") ? "GET, HEAD" : routes[i].method;
        return allow;
}

bool content_type_is_json(const char *v) {
        const char *semi, *cs;
        size_t n;

        if (!v)
                return false;
        v += strspn(v, " \t");
        semi = strchr(v, ';');
        n = semi ? (size_t) (semi - v) : strlen(v);
        while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
        if (n != strlen("application/json") || strncasecmp(v, "application/json", n) != 0)
                return false;
        for (cs = semi; cs; cs = strchr(cs + 1, ';')) {
                const char *p = cs + 1 + strspn(cs + 1, " \t");
                if (strncasecmp(p, "charset=", 8) == 0) {
                        p += 8;
                        if (*p == '"')
                                p++;
                        if (strncasecmp(p, "utf-8", 5) != 0 || strchr("\"; \t", p[5]) == NULL)
                                return false;
                }
        }
        return true;
}
