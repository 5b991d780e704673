/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-vendor token create / list / revoke: the tokens of
 * licensed-server's admin API, in its database (--db only: whoever may
 * make tokens holds the database already). The token is printed once;
 * the database keeps its SHA-256 (admin-token.h). */

#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>

#include "admin-ops.h"
#include "admin-token.h"
#include "table.h"
#include "timeutil.h"
#include "vendor.h"

static const char *const token_help =
        "licensed-vendor token create --db FILE --scope read|write [--name NAME] [--expires TIME]\n"
        "licensed-vendor [--json] token list --db FILE\n"
        "licensed-vendor token revoke --db FILE --name NAME\n"
        "\n"
        "Tokens for the admin API of licensed-server (Authorization: Bearer TOKEN).\n"
        "create prints the new token once, as its last line; the database keeps only\n"
        "its SHA-256. A read token may use the GET routes, a write token all of them.\n"
        "\n"
        "  --db FILE          The server's database\n"
        "  --scope SCOPE      read or write\n"
        "  --name NAME        What the server's log calls the token (default: token-\n"
        "                     and 8 hex digits of its hash)\n"
        "  --expires TIME     RFC 3339 time after which the server refuses it\n";

typedef struct TokenArgs {
        const char *db;
        const char *name;
        const char *scope;
        const char *expires;
} TokenArgs;

static int token_parse(const char *verb, int argc, char *argv[], TokenArgs *a, VendorOptions *o) {
        enum { ARG_DB = 0x100, ARG_NAME, ARG_SCOPE, ARG_EXPIRES, ARG_JSON };
        static const struct option options[] = {
                {"help", no_argument, NULL, 'h'},
                {"db", required_argument, NULL, ARG_DB},
                {"name", required_argument, NULL, ARG_NAME},
                {"scope", required_argument, NULL, ARG_SCOPE},
                {"expires", required_argument, NULL, ARG_EXPIRES},
                {"json", no_argument, NULL, ARG_JSON},
                {},
        };
        int c;

        verb_getopt_reset();
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        fputs(token_help, stdout);
                        return 0;
                case ARG_DB: a->db = optarg; break;
                case ARG_NAME: a->name = optarg; break;
                case ARG_SCOPE: a->scope = optarg; break;
                case ARG_EXPIRES: a->expires = optarg; break;
                case ARG_JSON: o->json = true; break;
                default: return -EINVAL;
                }
        if (optind < argc)
                return report_error(-EINVAL, "%s: unexpected argument '%s'", verb, argv[optind]);
        if (!a->db)
                return report_error(-EINVAL, "%s: --db FILE is required (the licensed-server database)", verb);
        return 1;
}

static int open_db(const char *verb, const char *db, Storage **ret) {
        CoreError err = {};
        int r = storage_open(db, ret, &err);
        return r < 0 ? report_error(r, "%s: %s", verb, core_error_message(&err, r)) : 0;
}

static int token_create(int argc, char *argv[], VendorOptions *o) {
        _cleanup_(storage_closep) Storage *s = NULL;
        _cleanup_free_ char *token = NULL, *name = NULL;
        TokenArgs a = {};
        Token t = {.expires = TIME_UNSET};
        CoreError err = {};
        int r;

        r = token_parse("token create", argc, argv, &a, o);
        if (r <= 0)
                return r;
        if (!a.scope)
                return report_error(-EINVAL, "token create: --scope read|write is required");
        t.scope = token_scope_from_string(a.scope);
        if ((int) t.scope < 0)
                return report_error(-EINVAL, "token create: --scope must be read or write, not '%s'", a.scope);
        if (a.expires) {
                r = time_parse_rfc3339(a.expires, &t.expires, &err);
                if (r < 0)
                        return report_error(r, "token create: --expires: %s", core_error_message(&err, r));
        }
        if (a.name && (!*a.name || strlen(a.name) > 128 || strpbrk(a.name, "\r\n\t")))
                return report_error(-EINVAL, "token create: --name must be 1 to 128 characters on one line");
        r = admin_token_generate(&token);
        if (r >= 0)
                r = admin_token_hash(token, t.hash);
        if (r < 0)
                return report_error(r, "token create: cannot make a token: %s", strerror(-r));
        t.created = now_realtime();
        /* A default name from the hash: distinct, and it says nothing of
         * the token (SHA-256 does not run backwards). */
        if (!a.name && asprintf(&name, "token-%.8s", t.hash) < 0)
                return -ENOMEM;
        t.name = (char *) (a.name ?: name);
        r = open_db("token create", a.db, &s);
        if (r < 0)
                return r;
        r = storage_token_create(s, &t, &err);
        if (r < 0)
                return report_error(r, "token create: %s", core_error_message(&err, r));
        printf("Token '%s' (%s), shown once; licensed-server keeps only its hash:\n%s\n", t.name,
               token_scope_to_string(t.scope), token);
        explicit_bzero(token, strlen(token));
        return 0;
}

static int token_list(int argc, char *argv[], VendorOptions *o) {
        _cleanup_(storage_closep) Storage *s = NULL;
        _cleanup_(table_freep) Table *table = NULL;
        TokenArgs a = {};
        Token *list = NULL;
        CoreError err = {};
        size_t n = 0;
        int r;

        r = token_parse("token list", argc, argv, &a, o);
        if (r <= 0)
                return r;
        r = open_db("token list", a.db, &s);
        if (r < 0)
                return r;
        r = storage_token_list(s, &list, &n, &err);
        if (r < 0)
                return report_error(r, "token list: %s", core_error_message(&err, r));
        if (o->json) {
                json_object *arr = json_object_new_array();

                for (size_t i = 0; i < n; i++) {
                        json_object *j = json_object_new_object();

                        json_object_object_add(j, "name", json_object_new_string(list[i].name));
                        json_object_object_add(j, "scope", json_object_new_string(token_scope_to_string(list[i].scope)));
                        admin_json_add_time(j, "created", list[i].created);
                        admin_json_add_time(j, "expires", list[i].expires);
                        admin_json_add_time(j, "last_used", list[i].last_used);
                        admin_json_add_time(j, "revoked", list[i].revoked);
                        json_object_array_add(arr, j);
                }
                puts(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
                json_object_put(arr);
        } else {
                table = table_new("NAME", "SCOPE", "CREATED", "EXPIRES", "LAST USED", "STATE", NULL);
                r = table ? 0 : -ENOMEM;
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        char t1[RFC3339_MAX], t2[RFC3339_MAX], t3[RFC3339_MAX];
                        const Token *t = &list[i];

                        r = table_add_cell(table, t->name, NULL);
                        if (r >= 0)
                                r = table_add_cell(table, token_scope_to_string(t->scope), NULL);
                        if (r >= 0)
                                r = table_add_cell(table, time_format_rfc3339(t->created, t1), NULL);
                        if (r >= 0)
                                r = table_add_cell(table, t->expires ? time_format_rfc3339(t->expires, t2) : "never", NULL);
                        if (r >= 0)
                                r = table_add_cell(table, t->last_used ? time_format_rfc3339(t->last_used, t3) : "never", NULL);
                        if (r >= 0)
                                r = table_add_cell(table,
                                                   t->revoked                                  ? "revoked"
                                                   : t->expires && t->expires <= now_realtime() ? "expired"
                                                                                                : "valid",
                                                   NULL);
                }
                if (r >= 0)
                        r = table_print(table, stdout, true, NULL);
        }
        token_array_free(list, n);
        return r < 0 ? report_error(r, "token list: %s", strerror(-r)) : 0;
}

static int token_revoke(int argc, char *argv[], VendorOptions *o) {
        _cleanup_(storage_closep) Storage *s = NULL;
        TokenArgs a = {};
        CoreError err = {};
        int r;

        r = token_parse("token revoke", argc, argv, &a, o);
        if (r <= 0)
                return r;
        if (!a.name)
                return report_error(-EINVAL, "token revoke: --name NAME is required");
        r = open_db("token revoke", a.db, &s);
        if (r < 0)
                return r;
        r = storage_token_revoke(s, a.name, now_realtime(), &err);
        if (r < 0)
                return report_error(r, "token revoke: %s", core_error_message(&err, r));
        printf("Token '%s' revoked; the server refuses it from now on.\n", a.name);
        return 0;
}

int verb_token(int argc, char *argv[], void *userdata) {
        static const VendorSubverb table[] = {
                {"create", token_create},
                {"list", token_list},
                {"revoke", token_revoke},
        };
        return vendor_subverb("token", table, ELEMENTSOF(table), token_help, argc, argv, userdata);
}
