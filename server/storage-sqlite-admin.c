/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The vendor's and the admin API's operations on SQLite (storage.h): the
 * entitlements' create, list, upgrade and revoke, the entitlement query
 * with its filters and cursor, the products, and the admin tokens, whose
 * hash only the database keeps. The same answers and sentences as
 * PostgreSQL's (storage-postgres-admin.c). */

#include <inttypes.h>

#include "storage-sqlite.h"
#include "strutil.h"
#include "timeutil.h"

typedef struct EntitlementWrite {
        const Entitlement *e;
        const char *features, *properties;
        int64_t now;
} EntitlementWrite;

static int entitlement_create_write(SqlConn *c, void *data, CoreError *err) {
        const EntitlementWrite *w = data;
        const Entitlement *e = w->e;
        const License *l = &e->license;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_CREATE, err, "ttttiiittiitiiiii", e->key, l->product, l->licensee,
                 license_type_to_string(l->type), l->not_before, l->not_after, l->maintenance_until, w->features,
                 w->properties, l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats,
                 w->now, w->now, (int64_t) e->trial_days, (int64_t) e->deactivation_requires_maintenance);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "the license key %s exists already", e->key);
        return r < 0 ? r : 0;
}

/* Runs fn, a write of e with its features and properties as JSON. */
static int entitlement_write(SqliteStorage *s, const Entitlement *e, SqlWork fn, CoreError *err) {
        _cleanup_free_ char *features = NULL, *properties = NULL;
        int r;

        r = storage_features_to_json(&e->license, &features, &properties);
        if (r < 0)
                return r;
        return sql_pool_write(s->pool, fn,
                              &(EntitlementWrite){.e = e,
                                                  .features = features,
                                                  .properties = properties,
                                                  .now = now_realtime()},
                              err);
}

int sqlite_entitlement_create(Storage *storage, const Entitlement *e, CoreError *err) {
        assert(e->seats >= 1);
        return entitlement_write(sqlite_storage(storage), e, entitlement_create_write, err);
}

typedef struct EntitlementList {
        void *list;
        size_t n;
} EntitlementList;

static int entitlement_list_read(SqlConn *c, void *data, CoreError *err) {
        EntitlementList *l = data;
        return collect_rows(c, SQL_ENTITLEMENT_LIST, NULL, sizeof(Entitlement), sqlite_entitlement_from_row,
                            &l->list, &l->n, err);
}

int sqlite_entitlement_list(Storage *storage, Entitlement **ret, size_t *ret_n, CoreError *err) {
        EntitlementList l = {};
        int r;

        r = sql_pool_read(sqlite_storage(storage)->pool, entitlement_list_read, &l, err);
        if (r < 0) {
                entitlement_array_free(l.list, l.n);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

static int entitlement_upgrade_write(SqlConn *c, void *data, CoreError *err) {
        const EntitlementWrite *w = data;
        const Entitlement *e = w->e;
        const License *l = &e->license;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_UPGRADE, err, "ttiiittiitiiiiti", l->licensee,
                 license_type_to_string(l->type), l->not_before, l->not_after, l->maintenance_until, w->features,
                 w->properties, l->validation_interval, l->grace_period, l->server_url, (int64_t) e->seats, w->now,
                 (int64_t) e->trial_days, (int64_t) e->deactivation_requires_maintenance, e->key,
                 (int64_t) l->revision);
        if (r == 0) {
                r = sqlite_entitlement_exists(c, e->key, err);
                if (r >= 0)
                        r = core_error_set(err, ESTALE,
                                           "the entitlement %s was changed meanwhile; try again", e->key);
        }
        return r < 0 ? r : 0;
}

int sqlite_entitlement_upgrade(Storage *storage, const Entitlement *e, CoreError *err) {
        return entitlement_write(sqlite_storage(storage), e, entitlement_upgrade_write, err);
}

static int entitlement_revoke_write(SqlConn *c, void *data, CoreError *err) {
        const char *key = data;
        int r;

        r = EXEC(c, SQL_ENTITLEMENT_REVOKE, err, "it", now_realtime(), key);
        if (r == 0)
                r = sqlite_entitlement_exists(c, key, err);
        return r < 0 ? r : 0;
}

int sqlite_entitlement_revoke(Storage *storage, const char *key, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, entitlement_revoke_write, (void *) key, err);
}

/* The admin API: queries, products, tokens -----------------------------------
 * (storage.h, "The admin API"). */

typedef struct RowList {
        void *list;
        size_t n;
        const EntitlementQuery *query;
} RowList;

/* A read of records into l, freed with free_array on failure. */
static int read_list(SqliteStorage *s, SqlWork fn, RowList *l, void (*free_array)(void *list, size_t n),
                     void **ret, size_t *ret_n, CoreError *err) {
        int r;

        r = sql_pool_read(s->pool, fn, l, err);
        if (r < 0) {
                free_array(l->list, l->n);
                return r;
        }
        *ret = l->list;
        *ret_n = l->n;
        return 0;
}

static int entitlement_query_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        const EntitlementQuery *q = l->query;
        _cleanup_sql_stmt_ sqlite3_stmt *st = NULL;
        int r;

        r = sql_conn_stmt(c, SQL_ENTITLEMENT_QUERY, &st, err, "tititi", q->product, (int64_t) q->state,
                          q->licensee, q->after_created, q->after_key,
                          q->limit > 0 ? (int64_t) q->limit : INT64_C(-1));
        return r < 0 ? r
                     : collect_stmt(c, st, sizeof(Entitlement), sqlite_entitlement_from_row, &l->list, &l->n,
                                    err);
}

static void free_entitlements(void *list, size_t n) {
        entitlement_array_free(list, n);
}

int sqlite_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret,
                             size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), entitlement_query_read, &(RowList){.query = q},
                         free_entitlements, (void **) ret, ret_n, err);
}

static int product_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        ProductSummary *p = ret;

        p->product = column_strdup(st, 0);
        if (!p->product)
                return -ENOMEM;
        p->entitlements = (uint32_t) sqlite3_column_int64(st, 1);
        p->active = (uint32_t) sqlite3_column_int64(st, 2);
        return 0;
}

static int product_list_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        return collect_rows(c, SQL_PRODUCT_LIST, NULL, sizeof(ProductSummary), product_from_row, &l->list, &l->n,
                            err);
}

static void free_products(void *list, size_t n) {
        product_summary_array_free(list, n);
}

int sqlite_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), product_list_read, &(RowList){}, free_products, (void **) ret,
                         ret_n, err);
}

static int token_from_row(sqlite3_stmt *st, void *ret, CoreError *err) {
        Token t = {.id = sqlite3_column_int64(st, 0)};
        const char *hash = (const char *) sqlite3_column_text(st, 3);

        t.scope = token_scope_from_string((const char *) sqlite3_column_text(st, 2));
        if ((int) t.scope < 0 || !hash || strlen(hash) != TOKEN_HASH_HEX_SIZE - 1)
                return core_error_set(err, EBADMSG, "database: token %" PRId64 " has a bad scope or hash",
                                      t.id);
        strcpy(t.hash, hash);
        t.name = column_strdup(st, 1);
        if (!t.name)
                return -ENOMEM;
        t.created = sqlite3_column_int64(st, 4);
        t.expires = sqlite3_column_int64(st, 5);
        t.last_used = sqlite3_column_int64(st, 6);
        t.revoked = sqlite3_column_int64(st, 7);
        *(Token *) ret = t;
        return 0;
}

static int token_create_write(SqlConn *c, void *data, CoreError *err) {
        const Token *t = data;
        int r;

        r = EXEC(c, SQL_TOKEN_CREATE, err, "tttii", t->name, token_scope_to_string(t->scope), t->hash, t->created,
                 t->expires);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "a token called '%s' exists already", t->name);
        return r < 0 ? r : 0;
}

int sqlite_token_create(Storage *storage, const Token *t, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_create_write, (void *) t, err);
}

static int token_list_read(SqlConn *c, void *data, CoreError *err) {
        RowList *l = data;
        return collect_rows(c, SQL_TOKEN_LIST, NULL, sizeof(Token), token_from_row, &l->list, &l->n, err);
}

static void free_tokens(void *list, size_t n) {
        token_array_free(list, n);
}

int sqlite_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err) {
        return read_list(sqlite_storage(storage), token_list_read, &(RowList){}, free_tokens, (void **) ret, ret_n,
                         err);
}

typedef struct TokenChange {
        const char *name, *hash;
        int64_t now;
        Token *token; /* token_use_write(): the row after the change */
} TokenChange;

static int token_revoke_write(SqlConn *c, void *data, CoreError *err) {
        const TokenChange *w = data;
        int r;

        r = EXEC(c, SQL_TOKEN_REVOKE, err, "it", w->now, w->name);
        if (r == 0)
                return core_error_set(err, ENOENT, "there is no token '%s' that is not revoked", w->name);
        return r < 0 ? r : 0;
}

int sqlite_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_revoke_write,
                              &(TokenChange){.name = name, .now = now}, err);
}

static int token_use_write(SqlConn *c, void *data, CoreError *err) {
        TokenChange *w = data;
        int r;

        r = EXEC(c, SQL_TOKEN_USE, err, "it", w->now, w->hash);
        if (r == 0)
                return core_error_set(err, ENOENT, "no token has this hash");
        if (r >= 0)
                r = read_row(c, SQL_TOKEN_GET, w->hash, token_from_row, w->token, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "no token has this hash");
        return r < 0 ? r : 0;
}

int sqlite_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err) {
        return sql_pool_write(sqlite_storage(storage)->pool, token_use_write,
                              &(TokenChange){.hash = hash, .now = now, .token = ret}, err);
}
