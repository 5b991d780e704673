/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The admin API's operations on PostgreSQL (storage.h, "The admin API"):
 * the entitlement query with its filters and cursor, the products, and the
 * admin tokens, whose hash only the database keeps. The same answers and
 * sentences as SQLite's (storage-sqlite.c); schema version 2. */

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "storage-postgres.h"
#include "strutil.h"

/* The rows of res as a new array of size-byte records in *ret. */
static int rows_to_array(const PGresult *res, size_t size, FromRow from_row,
                         void (*free_array)(void *list, size_t n), void **ret, size_t *ret_n, CoreError *err) {
        void *list = NULL;
        size_t n = 0;
        int r;

        r = collect_rows(res, size, from_row, &list, &n, err);
        if (r < 0) {
                free_array(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int pg_entitlement_query(Storage *storage, const EntitlementQuery *q, Entitlement **ret, size_t *ret_n,
                         CoreError *err) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_(tx_abort) Tx t = {};
        char limit[24];
        int r;

        /* A NULL limit is no limit (LIMIT ALL). */
        snprintf(limit, sizeof(limit), "%zu", q->limit);
        r = tx_begin(pg_storage(storage), &t, err);
        /* strpos(), not LIKE: a licensee may contain % or _. COLLATE "C":
         * keys in byte order, as SQLite orders them and as the cursor
         * compares them. */
        if (r >= 0)
                r = query(&t, &res, err,
                          "SELECT " PG_ENTITLEMENT_COLUMNS " FROM entitlement e "
                          "WHERE ($1::text IS NULL OR e.product = $1) "
                          "AND ($2::int = 0 OR ($2 = 1 AND NOT e.revoked) OR ($2 = 2 AND e.revoked)) "
                          "AND ($3::text IS NULL OR strpos(e.licensee, $3) > 0) "
                          "AND ($5::text IS NULL OR e.created > $4::bigint "
                          "     OR (e.created = $4::bigint AND e.key COLLATE \"C\" > $5)) "
                          "ORDER BY e.created, e.key COLLATE \"C\" LIMIT $6::bigint",
                          "tititt", q->product, (int64_t) q->state, q->licensee, q->after_created, q->after_key,
                          q->limit > 0 ? limit : NULL);
        r = tx_end(&t, r, true, err);
        if (r < 0)
                return r;
        return rows_to_array(res, sizeof(Entitlement), pg_entitlement_from_row, pg_entitlement_array_free,
                             (void **) ret, ret_n, err);
}

static int product_from_row(const PGresult *res, int row, void *ret, CoreError *err) {
        ProductSummary *p = ret;
        int r;

        r = column_dup(res, row, 0, &p->product);
        if (r < 0)
                return r;
        if (!p->product)
                return core_error_set(err, EBADMSG, "database: an entitlement has no product");
        p->entitlements = (uint32_t) column_int(res, row, 1);
        p->active = (uint32_t) column_int(res, row, 2);
        return 0;
}

static void product_summary_array_freep(void *list, size_t n) {
        product_summary_array_free(list, n);
}

int pg_product_list(Storage *storage, ProductSummary **ret, size_t *ret_n, CoreError *err) {
        return list_rows(pg_storage(storage),
                         "SELECT e.product, count(*), sum(e.active) FROM entitlement e "
                         "GROUP BY e.product ORDER BY e.product COLLATE \"C\"",
                         "", NULL, sizeof(ProductSummary), product_from_row, product_summary_array_freep,
                         (void **) ret, ret_n, err);
}

/* Tokens --------------------------------------------------------------------- */

#define TOKEN_COLUMNS "id, name, scope, hash, created, expires, last_used, revoked"

static int token_from_row(const PGresult *res, int row, void *ret, CoreError *err) {
        Token t = {.id = column_int(res, row, 0)};
        const char *hash = PQgetvalue(res, row, 3);
        int r;

        t.scope = token_scope_from_string(PQgetvalue(res, row, 2));
        if ((int) t.scope < 0 || strlen(hash) != TOKEN_HASH_HEX_SIZE - 1)
                return core_error_set(err, EBADMSG, "database: token %" PRId64 " has a bad scope or hash",
                                      t.id);
        strcpy(t.hash, hash);
        r = column_dup(res, row, 1, &t.name);
        if (r < 0)
                return r;
        if (!t.name)
                return core_error_set(err, EBADMSG, "database: token %" PRId64 " has no name", t.id);
        t.created = column_int(res, row, 4);
        t.expires = column_int(res, row, 5);
        t.last_used = column_int(res, row, 6);
        t.revoked = column_int(res, row, 7);
        *(Token *) ret = t;
        return 0;
}

static void token_array_freep(void *list, size_t n) {
        token_array_free(list, n);
}

int pg_token_create(Storage *storage, const Token *tk, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err,
                         "INSERT INTO admin_token (name, scope, hash, created, expires) VALUES ($1, $2, $3, $4, $5)",
                         "tttii", tk->name, token_scope_to_string(tk->scope), tk->hash, tk->created, tk->expires);
        r = tx_end(&t, r, true, err);
        if (r == -EEXIST)
                return core_error_set(err, EEXIST, "a token called '%s' exists already", tk->name);
        return r < 0 ? r : 0;
}

int pg_token_list(Storage *storage, Token **ret, size_t *ret_n, CoreError *err) {
        return list_rows(pg_storage(storage), "SELECT " TOKEN_COLUMNS " FROM admin_token ORDER BY created, id", "",
                         NULL, sizeof(Token), token_from_row, token_array_freep, (void **) ret, ret_n, err);
}

int pg_token_revoke(Storage *storage, const char *name, int64_t now, CoreError *err) {
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = EXEC(&t, err, "UPDATE admin_token SET revoked = $1 WHERE name = $2 AND revoked = 0", "it", now,
                         name);
        r = tx_end(&t, r, true, err);
        if (r == 0)
                return core_error_set(err, ENOENT, "there is no token '%s' that is not revoked", name);
        return r < 0 ? r : 0;
}

int pg_token_use(Storage *storage, const char *hash, int64_t now, Token *ret, CoreError *err) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_(tx_abort) Tx t = {};
        int r;

        r = tx_begin(pg_storage(storage), &t, err);
        if (r >= 0)
                r = query(&t, &res, err,
                          "UPDATE admin_token SET last_used = $1 WHERE hash = $2 RETURNING " TOKEN_COLUMNS, "it",
                          now, hash);
        r = tx_end(&t, r, true, err);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return core_error_set(err, ENOENT, "no token has this hash");
        return token_from_row(res, 0, ret, err);
}
