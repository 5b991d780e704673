/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What licensed-server answers where, and which bodies it reads: the
 * routing table and the Content-Type rule, apart from libmicrohttpd so
 * that they can be tested on their own. */

#include <assert.h>
#include <strings.h>

#include "server.h"

static const Route routes[] = {
        {"POST", "/v1/activate", .api = api_activate},
        {"POST", "/v1/validate", .api = api_validate},
        {"POST", "/v1/deactivate", .api = api_deactivate},
        {"POST", "/v1/offline", .api = api_offline},
        {"POST", "/v1/trial", .api = api_trial},
        {"GET", "/v1/health", .api = api_health},
        {"GET", "/v1/openapi.json", .api = api_openapi},
        {"GET", "/", .api = NULL},
        {"GET", "/offline", .api = NULL},
        /* The customer portal (portal-http.c, docs/portal.md): HTML forms. */
        {"GET", "/portal", .portal = true},
        {"POST", "/portal/sign-in", .portal = true},
        {"POST", "/portal/sign-out", .portal = true},
        {"POST", "/portal/release", .portal = true},
        {"GET", "/portal/license/{key}", .portal = true},
        /* The admin API (docs/protocol.md, "Admin API"). */
        {"GET", "/v1/admin/entitlements", .admin = admin_entitlement_list, .access = ROUTE_ADMIN_READ},
        {"POST", "/v1/admin/entitlements", .admin = admin_entitlement_create, .access = ROUTE_ADMIN_WRITE,
         .status = 201},
        {"GET", "/v1/admin/entitlements/{key}", .admin = admin_entitlement_show, .access = ROUTE_ADMIN_READ},
        {"POST", "/v1/admin/entitlements/{key}/upgrade", .admin = admin_entitlement_upgrade,
         .access = ROUTE_ADMIN_WRITE},
        {"POST", "/v1/admin/entitlements/{key}/revoke", .admin = admin_entitlement_revoke,
         .access = ROUTE_ADMIN_WRITE},
        {"GET", "/v1/admin/entitlements/{key}/activations", .admin = admin_activation_list,
         .access = ROUTE_ADMIN_READ},
        {"POST", "/v1/admin/entitlements/{key}/release", .admin = admin_release, .access = ROUTE_ADMIN_WRITE},
        {"GET", "/v1/admin/activations", .admin = admin_activation_list, .access = ROUTE_ADMIN_READ},
        {"GET", "/v1/admin/products", .admin = admin_product_list, .access = ROUTE_ADMIN_READ},
        {"POST", "/v1/admin/trials/reset", .admin = admin_trial_reset, .access = ROUTE_ADMIN_WRITE,
         .event = admin_event_trial_reset},
        {"GET", "/v1/admin/keys", .api = api_admin_keys, .access = ROUTE_ADMIN_READ},
};

const Route *route_table(size_t *ret_n) {
        if (ret_n)
                *ret_n = ELEMENTSOF(routes);
        return routes;
}

static bool route_in(const Route *r, unsigned set) {
        return set & (r->access == ROUTE_PUBLIC ? ROUTES_PUBLIC : ROUTES_ADMIN);
}

/* Whether path matches pattern, whose "{key}" segment matches one
 * non-empty segment of at most ROUTE_PARAM_MAX bytes, copied to param. */
static bool path_match(const char *pattern, const char *path, char *param) {
        static const char placeholder[] = "{key}";

        for (;;) {
                const char *brace = strstr(pattern, placeholder);
                size_t fixed = brace ? (size_t) (brace - pattern) : strlen(pattern), n;

                if (strncmp(pattern, path, fixed) != 0)
                        return false;
                pattern += fixed;
                path += fixed;
                if (!brace)
                        return *path == 0;
                n = strcspn(path, "/");
                if (n == 0 || n > ROUTE_PARAM_MAX)
                        return false;
                memcpy(param, path, n);
                param[n] = 0;
                pattern += strlen(placeholder);
                path += n;
        }
}

const Route *route_find(const char *method, const char *path, unsigned set, char *param, bool *ret_path_known) {
        char p[ROUTE_PARAM_MAX + 1];
        bool head;

        assert(method);
        assert(path);
        assert(ret_path_known);

        head = streq(method, "HEAD");
        *ret_path_known = false;
        if (param)
                param[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(routes); i++) {
                p[0] = 0;
                if (!route_in(&routes[i], set) || !path_match(routes[i].path, path, p))
                        continue;
                *ret_path_known = true;
                if (streq(method, routes[i].method) || (head && streq(routes[i].method, "GET"))) {
                        if (param)
                                strcpy(param, p);
                        return &routes[i];
                }
        }
        return NULL;
}

size_t route_index(const Route *r) {
        return r ? (size_t) (r - routes) : SIZE_MAX;
}

const char *route_allow(const char *path, unsigned set) {
        char p[ROUTE_PARAM_MAX + 1];
        bool get = false, post = false;

        assert(path);

        for (size_t i = 0; i < ELEMENTSOF(routes); i++)
                if (route_in(&routes[i], set) && path_match(routes[i].path, path, p)) {
                        get = get || streq(routes[i].method, "GET");
                        post = post || streq(routes[i].method, "POST");
                }
        return get && post ? "GET, HEAD, POST" : get ? "GET, HEAD" : post ? "POST" : NULL;
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
