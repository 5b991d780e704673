/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-server's HTTP side on libmicrohttpd: a thread pool with internal
 * polling, bounded bodies, slow clients timed out, routing, JSON parsing
 * and the replies. Whatever a client sends, it gets a JSON error it can
 * read, and the server carries on. */

#include <arpa/inet.h>
#include <assert.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <strings.h>

#include "json-object.h"
#include "portal.h"
#include "report-error.h"
#include "server.h"
#include "text-check.h"

/* A body larger than SERVER_BODY_MAX is read and dropped up to this much,
 * so the client reads the 413 reply; beyond it the connection is closed. */
#define BODY_DISCARD_MAX (1024 * 1024)
#define CONNECTIONS_MAX 256
/* A listener replaced by a reload is stopped after this long even if a
 * client still holds a connection to it. */
#define DRAIN_MAX_SEC 300

/* One per HTTP request, from its headers to its completion. */
typedef struct Request {
        const Route *route;
        char param[ROUTE_PARAM_MAX + 1]; /* the {key} of the path */
        Reply early; /* an error known from the headers, sent once the body is read */
        char *body;
        size_t len;
        size_t dropped;
        uint64_t start_usec; /* for the latency histogram */
        bool close;          /* answer at once, and close the connection */
        bool portal_page;    /* a 404/405 under /portal: the portal's page, not JSON */
} Request;

uint64_t server_now_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000u + (uint64_t) ts.tv_nsec / 1000u;
}

void server_mhd_log(void *cls, const char *fmt, va_list ap) {
        char line[1024];
        size_t n;

        vsnprintf(line, sizeof(line), fmt, ap);
        n = strlen(line);
        while (n > 0 && line[n - 1] == '\n')
                line[--n] = 0;
        server_log_at(LOG_WARNING, "microhttpd: %s", line);
}

/* Decodes the %XX escapes of a path or a query argument in place, as
 * libmicrohttpd would, except %00: decoded, it would end the C string
 * early, so that "/v1/health%00x" reached /v1/health and a query argument
 * lost what followed it. Left as it is, it is text, found by no route and
 * matching no key. */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s) {
        char *w = s;

        for (const char *r = s; *r; r++) {
                int hi = r[0] == '%' ? url_hex_digit(r[1]) : -1, lo = hi >= 0 ? url_hex_digit(r[2]) : -1;

                if (lo >= 0 && (hi | lo) != 0) {
                        *w++ = (char) (hi << 4 | lo);
                        r += 2;
                } else
                        *w++ = *r;
        }
        *w = 0;
        return (size_t) (w - s);
}

static const struct sockaddr *client_address(struct MHD_Connection *c) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

        return ci ? ci->client_addr : NULL;
}

/* Takes a token from the client's bucket; without one, the answer is a 429
 * (in place of any other early error), sent once the body is read. */
static void check_rate(Server *s, struct MHD_Connection *c, Request *rq) {
        unsigned retry_after = 1;
        bool admin = rq->route && rq->route->access != ROUTE_PUBLIC;

        if (!s->ratelimit)
                return;
        /* The public routes (and paths that are none): what machines and
         * strangers call, a token each. An admin call with a good token
         * costs none (a shop may call in bulk); one whose token is refused
         * costs one after the fact (dispatch()), so that guessing, or a
         * flood of database lookups, is limited like any stranger's. */
        if (admin ? ratelimit_check(s->ratelimit, client_address(c), rq->start_usec, &retry_after)
                  : ratelimit_take(s->ratelimit, client_address(c), rq->start_usec, &retry_after))
                return;
        server_metrics_count(&s->metrics, COUNTER_RATE_LIMITED);
        reply_error(&rq->early, 429, "rate-limited",
                    "too many requests from this address; try again in %u s", retry_after);
        rq->early.retry_after = retry_after;
}

static enum MHD_Result count_framing(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        unsigned *n = cls;

        if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0 ||
            strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0)
                (*n)++;
        return MHD_YES;
}

/* Checks what the headers say, before any body is read. */
static void check_headers(const ServerListener *l, struct MHD_Connection *c, Request *rq, const char *method,
                          const char *url) {
        const char *length, *type;
        unsigned framing = 0;
        bool known;

        /* Two Content-Length headers, or one beside Transfer-Encoding:
         * libmicrohttpd picks one length, a proxy in front may have picked
         * the other, and the rest of the body would be read as the next
         * request on the connection (request smuggling). RFC 9112 6.3:
         * refused, and the connection closed. */
        MHD_get_connection_values(c, MHD_HEADER_KIND, count_framing, &framing);
        if (framing > 1) {
                rq->close = true;
                reply_error(&rq->early, 400, "bad-request",
                            "the request has more than one Content-Length or Transfer-Encoding header: the length "
                            "of its body is ambiguous");
                return;
        }
        rq->route = route_find(method, url, l->routes, rq->param, &known);
        if (!rq->route) {
                /* Under /portal a person's browser asks: the portal's page
                 * says it. With --no-portal, no method has a route there. */
                if (portal_path(url)) {
                        rq->portal_page = l->server->portal && (l->routes & ROUTES_PUBLIC);
                        known = known && l->server->portal;
                }
                if (known)
                        reply_error(&rq->early, 405, "method-not-allowed", "%s is not allowed on %s", method,
                                    url);
                else
                        reply_error(&rq->early, 404, "not-found", "there is nothing at %s", url);
                return;
        }
        if (rq->route->portal && !l->server->portal) {
                rq->route = NULL; /* --no-portal */
                reply_error(&rq->early, 404, "not-found", "there is nothing at %s", url);
                return;
        }
        if (!streq(rq->route->method, "POST"))
                return;
        type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (rq->route->portal ? !portal_content_type_is_form(type) : !content_type_is_json(type)) {
                if (rq->route->portal) {
                        reply_error(&rq->early, 415, "unsupported-media-type",
                                    "the portal's forms are application/x-www-form-urlencoded (got %s)",
                                    type ? type : "no Content-Type");
                        return;
                }
                reply_error(&rq->early, 415, "unsupported-media-type",
                            "the body must be JSON with Content-Type: application/json (got %s)",
                            type ? type : "no Content-Type");
                return;
        }
        length = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length && strtoull(length, NULL, 10) > SERVER_BODY_MAX)
                reply_error(&rq->early, 413, "too-large", "the body is larger than %d bytes",
                            SERVER_BODY_MAX);
}

/* Parses the body into a JSON object; fills in the reply if it is not one. */
static int parse_body(const Request *rq, json_object **ret, Reply *reply) {
        CoreError err = {};
        int r;

        r = json_parse_object(rq->body, rq->len, ret, &err);
        if (r == -ENOMEM)
                return r;
        if (r == -EDOM)
                reply_error(reply, 400, "bad-request", "the body must be a JSON object");
        else if (r < 0)
                reply_error(reply, 400, "invalid-json", "%s", core_error_message(&err, r));
        return r;
}

static enum MHD_Result send_response(struct MHD_Connection *c, unsigned status, const char *content_type,
                                     const char *text, const char *csp, const char *allow,
                                     unsigned retry_after, bool challenge) {
        struct MHD_Response *resp;
        enum MHD_Result ret;

        resp = MHD_create_response_from_buffer(strlen(text), (void *) text, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
        if (csp) {
                MHD_add_response_header(resp, "Content-Security-Policy", csp);
                MHD_add_response_header(resp, "X-Frame-Options", "DENY");
                MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
        }
        if (allow)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
        if (retry_after > 0) {
                char seconds[16];
                snprintf(seconds, sizeof(seconds), "%u", retry_after);
                MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, seconds);
        }
        if (challenge)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                                        "Bearer realm=\"licensed-server admin\"");
        ret = MHD_queue_response(c, status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static void peer_name(struct MHD_Connection *c, char *buf, size_t size) {
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        const struct sockaddr *sa = ci ? ci->client_addr : NULL;

        snprintf(buf, size, "?");
        if (sa && sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *) sa)->sin_addr, buf, (socklen_t) size);
        else if (sa && sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) sa)->sin6_addr, buf, (socklen_t) size);
}

static void account(Server *s, const Request *rq, unsigned status) {
        server_metrics_request(&s->metrics, route_index(rq->route), status, server_now_usec() - rq->start_usec);
}

static enum MHD_Result send_reply(const ServerListener *l, struct MHD_Connection *c, const Request *rq,
                                  const char *method, const char *url, Reply *reply) {
        const char *allow = NULL;
        char peer[INET6_ADDRSTRLEN];

        if (reply->status == 405)
                allow = route_allow(url, l->routes);
        peer_name(c, peer, sizeof(peer));
        server_log_at(reply->status == 429 ? LOG_WARNING : LOG_INFO, "%s %s %s: %u%s%s", peer, method, url,
                      reply->status, reply->note[0] ? " " : "", reply->note);
        account(l->server, rq, reply->status);
        return send_response(c, reply->status, "application/json",
                             json_object_to_json_string_ext(
                                     reply->body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
                             NULL, allow, reply->retry_after, reply->challenge);
}

typedef struct QueryArguments {
        json_object *object;
        const char *bad; /* the name of the first argument that is not printable UTF-8 */
        bool bad_name;   /* ... in its name, not only in its value */
} QueryArguments;

static bool printable(const char *s) {
        return utf8_is_printable(s, strlen(s), false);
}

static enum MHD_Result add_query_argument(void *cls, enum MHD_ValueKind kind, const char *key, const char *value) {
        QueryArguments *q = cls;

        /* A JSON body is UTF-8 by the parser's check; a query string is
         * whatever bytes its %XX escapes make, which PostgreSQL refuses
         * as a query parameter with an error (it was a 500). */
        if (!printable(key) || !printable(value ?: "")) {
                q->bad = key;
                q->bad_name = !printable(key);
                return MHD_NO;
        }
        json_object_object_add(q->object, key, json_object_new_string(value ?: ""));
        return MHD_YES;
}

/* The query string as an object of strings: the input of an admin GET.
 * NULL for no memory, or after filling in the reply for an argument that
 * is not printable UTF-8. */
static json_object *query_object(struct MHD_Connection *c, Reply *reply) {
        QueryArguments q = {.object = json_object_new_object()};

        if (q.object)
                MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_query_argument, &q);
        if (q.object && q.bad) {
                json_object_put(TAKE_PTR(q.object));
                if (q.bad_name)
                        reply_error(reply, 400, "bad-request", "a query parameter's name is not printable UTF-8");
                else
                        reply_error(reply, 400, "bad-request", "the query parameter \"%s\" is not printable UTF-8",
                                    q.bad);
        }
        return q.object;
}

/* The request is complete: answer it. */
static enum MHD_Result dispatch(const ServerListener *l, struct MHD_Connection *c, Request *rq,
                                const char *method, const char *url) {
        Server *s = l->server;
        _cleanup_(reply_done) Reply reply = {};
        json_object *body = NULL;

        if (((rq->route && rq->route->portal) || rq->portal_page) && (rq->early.status || rq->dropped > 0)) {
                char peer[INET6_ADDRSTRLEN];

                peer_name(c, peer, sizeof(peer));
                return (enum MHD_Result) portal_dispatch(s, c, rq->route, rq->param, method, url, NULL, 0, peer,
                                                         rq->start_usec, rq->early.status ?: 413,
                                                         rq->early.retry_after);
        }
        if (rq->early.status)
                return send_reply(l, c, rq, method, url, &rq->early);
        if (rq->dropped > 0) {
                reply_error(&reply, 413, "too-large", "the body is larger than %d bytes", SERVER_BODY_MAX);
                return send_reply(l, c, rq, method, url, &reply);
        }
        if (rq->route->portal) {
                char peer[INET6_ADDRSTRLEN];

                peer_name(c, peer, sizeof(peer));
                return (enum MHD_Result) portal_dispatch(s, c, rq->route, rq->param, method, url, rq->body, rq->len,
                                                         peer, rq->start_usec, 0, 0);
        }
        if (!rq->route->api && !rq->route->admin) {
                char peer[INET6_ADDRSTRLEN];

                peer_name(c, peer, sizeof(peer));
                server_log("%s %s %s: 200 the offline page", peer, method, url);
                account(s, rq, 200);
                return send_response(c, 200, "text/html; charset=utf-8", s->page.html, s->page.csp, NULL, 0,
                                     false);
        }
        if (streq(rq->route->method, "POST") && parse_body(rq, &body, &reply) < 0)
                return reply.status ? send_reply(l, c, rq, method, url, &reply) : MHD_NO;
        if (rq->route->access != ROUTE_PUBLIC) {
                /* An admin POST reads its body only: a parameter in its URL
                 * would be a change silently not made. */
                if (body && MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, NULL, NULL) > 0) {
                        json_object_put(body);
                        reply_error(&reply, 400, "bad-request",
                                    "%s %s takes its input as a JSON body, not in the query string", method,
                                    rq->route->path);
                        return send_reply(l, c, rq, method, url, &reply);
                }
                if (!body && !(body = query_object(c, &reply)))
                        return reply.status ? send_reply(l, c, rq, method, url, &reply) : MHD_NO;
                server_admin(s, rq->route, rq->param,
                             MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION), body,
                             &reply);
                if (reply.status == 401 && s->ratelimit) {
                        unsigned retry_after;

                        (void) ratelimit_take(s->ratelimit, client_address(c), rq->start_usec, &retry_after);
                }
        } else
                rq->route->api(s, body, &reply);
        json_object_put(body);
        if (!reply.status)
                reply_error(&reply, 500, "internal", "the server has no answer");
        return send_reply(l, c, rq, method, url, &reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        const ServerListener *l = cls;
        Request *rq = *con_cls;

        if (!rq) {
                rq = calloc(1, sizeof(*rq));
                if (!rq)
                        return MHD_NO;
                *con_cls = rq;
                rq->start_usec = server_now_usec();
                check_headers(l, c, rq, method, url);
                check_rate(l->server, c, rq);
                /* A body too large to even read through: answer now (a
                 * page for the portal's forms), MHD closes the connection
                 * after the reply. */
                if (rq->early.status == 413 || rq->close)
                        return dispatch(l, c, rq, method, url);
                return MHD_YES;
        }

        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                char *m;

                *upload_data_size = 0;
                if (rq->early.status || rq->dropped > 0 || rq->len + n > SERVER_BODY_MAX) {
                        rq->dropped += n;
                        return rq->dropped + rq->len > BODY_DISCARD_MAX ? MHD_NO : MHD_YES;
                }
                m = realloc(rq->body, rq->len + n + 1);
                if (!m)
                        return MHD_NO;
                rq->body = m;
                memcpy(rq->body + rq->len, upload_data, n);
                rq->len += n;
                rq->body[rq->len] = 0;
                return MHD_YES;
        }
        return dispatch(l, c, rq, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
        Request *rq = *con_cls;

        if (!rq)
                return;
        reply_done(&rq->early);
        free(rq->body);
        free(rq);
        *con_cls = NULL;
}

/* A listener for l's routes with cert and key (NULL: plain HTTP): on
 * address, or on listen_fd (>= 0, a socket another listener shares) for a
 * reload. */
static struct MHD_Daemon *start_daemon(Server *s, ServerListener *l, const struct sockaddr_storage *address,
                                       int listen_fd, const char *cert, const char *key) {
        /* ITC: MHD_quiesce_daemon() needs it, to hand the socket over. */
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC;
        struct MHD_OptionItem opts[16];
        size_t n = 0;

#define OPT(o, v, p) (opts[n++] = (struct MHD_OptionItem){(o), (intptr_t) (v), (p)})
        OPT(MHD_OPTION_EXTERNAL_LOGGER, server_mhd_log, NULL); /* first, or MHD logs the rest its own way */
        if (listen_fd >= 0)
                OPT(MHD_OPTION_LISTEN_SOCKET, listen_fd, NULL);
        else
                OPT(MHD_OPTION_SOCK_ADDR, 0, (void *) address);
        OPT(MHD_OPTION_CONNECTION_TIMEOUT, s->timeout_sec, NULL);
        OPT(MHD_OPTION_CONNECTION_LIMIT, CONNECTIONS_MAX, NULL);
        OPT(MHD_OPTION_CONNECTION_MEMORY_LIMIT, 32 * 1024, NULL);
        OPT(MHD_OPTION_LISTENING_ADDRESS_REUSE, 1, NULL);
        OPT(MHD_OPTION_NOTIFY_COMPLETED, on_completed, s);
        OPT(MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL);
        if (s->threads > 1)
                OPT(MHD_OPTION_THREAD_POOL_SIZE, s->threads, NULL);
        if (cert) {
                flags |= MHD_USE_TLS;
                OPT(MHD_OPTION_HTTPS_MEM_CERT, 0, (char *) cert);
                OPT(MHD_OPTION_HTTPS_MEM_KEY, 0, (char *) key);
        }
        OPT(MHD_OPTION_END, 0, NULL);
#undef OPT
        assert(n <= ELEMENTSOF(opts));

        if (address->ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        return MHD_start_daemon(flags, 0, NULL, NULL, on_request, l, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
}

int server_http_start(Server *s, CoreError *err) {
        s->main_listener = (ServerListener){s, ROUTES_PUBLIC | (s->admin_separate ? 0 : ROUTES_ADMIN)};
        s->admin_listener = (ServerListener){s, ROUTES_ADMIN};
        s->httpd = start_daemon(s, &s->main_listener, &s->listen, -1, s->tls_cert, s->tls_key);
        if (s->httpd && s->admin_separate)
                s->admin_httpd = start_daemon(s, &s->admin_listener, &s->admin_listen, -1, s->tls_cert, s->tls_key);
        if (!s->httpd || (s->admin_separate && !s->admin_httpd))
                return core_error_set(err, EADDRNOTAVAIL,
                                      "cannot listen%s (address in use, not local, or bad TLS files?); "
                                      "see the microhttpd message above",
                                      s->httpd ? " on the --admin-listen address" : "");
        return 0;
}

static void drain_stop(ServerDrain *d) {
        MHD_stop_daemon(d->httpd);
        server_tls_free(d->tls_cert, d->tls_key);
        *d = (ServerDrain){};
}

/* The reload starts the new listener on a second descriptor of the same
 * listening socket before the old one lets go of it, so no connection
 * waiting in the backlog is refused, and a pair GnuTLS does not take
 * leaves the old listener as it was. The old listener then only finishes
 * the connections it has (a keep-alive client keeps its connection, with
 * the old certificate, until it closes it or it idles out). */
int server_http_reload(Server *s, CoreError *err) {
        _cleanup_free_ char *cert = NULL;
        char *key = NULL;
        const union MHD_DaemonInfo *info;
        struct MHD_Daemon *d;
        int fd, r;

        if (!s->tls_cert_path)
                return 0;
        r = server_tls_reread(s, &cert, &key, err);
        if (r < 0)
                return r;
        info = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_LISTEN_FD);
        fd = info ? fcntl(info->listen_fd, F_DUPFD_CLOEXEC, 3) : -1;
        if (fd < 0) {
                server_tls_free(TAKE_PTR(cert), key);
                return core_error_set(err, errno ? errno : EBADF, "cannot share the listening socket: %m");
        }
        d = start_daemon(s, &s->main_listener, &s->listen, fd, cert, key);
        if (!d) {
                close(fd);
                server_tls_free(TAKE_PTR(cert), key);
                return core_error_set(err, EINVAL,
                                      "the new certificate and key were not taken (see the microhttpd "
                                      "message above)");
        }
        if (s->n_drains == SERVER_DRAINS_MAX) {
                /* Reloads faster than connections drain: the oldest goes. */
                drain_stop(&s->drains[0]);
                memmove(s->drains, s->drains + 1, sizeof(s->drains[0]) * (SERVER_DRAINS_MAX - 1));
                s->n_drains--;
        }
        fd = MHD_quiesce_daemon(s->httpd);
        if (fd >= 0)
                close(fd); /* ours now; the new listener has its own descriptor */
        s->drains[s->n_drains++] = (ServerDrain){
                .httpd = s->httpd,
                .tls_cert = s->tls_cert,
                .tls_key = s->tls_key,
                .deadline_usec = server_now_usec() + (uint64_t) DRAIN_MAX_SEC * 1000000u,
        };
        s->httpd = d;
        s->tls_cert = TAKE_PTR(cert);
        s->tls_key = key;
        return 1;
}

void server_http_reap(Server *s, uint64_t now_usec) {
        size_t kept = 0;

        for (size_t i = 0; i < s->n_drains; i++) {
                const union MHD_DaemonInfo *info =
                        MHD_get_daemon_info(s->drains[i].httpd, MHD_DAEMON_INFO_CURRENT_CONNECTIONS);

                bool idle = info && info->num_connections == 0;

                if (idle || now_usec >= s->drains[i].deadline_usec) {
                        server_log("reload: the replaced listener stopped (%s)",
                                   idle ? "its last connection closed" : "connections open past the deadline");
                        drain_stop(&s->drains[i]);
                } else
                        s->drains[kept++] = s->drains[i];
        }
        s->n_drains = kept;
}

void server_http_stop(Server *s) {
        if (s->admin_httpd)
                MHD_stop_daemon(s->admin_httpd);
        s->admin_httpd = NULL;
        for (size_t i = 0; i < s->n_drains; i++)
                drain_stop(&s->drains[i]);
        s->n_drains = 0;
        if (s->httpd)
                MHD_stop_daemon(s->httpd);
        s->httpd = NULL;
}

void server_format_url(const struct sockaddr_storage *listen, struct MHD_Daemon *d, const char *scheme,
                       const char *suffix, char *buf, size_t size) {
        const union MHD_DaemonInfo *info = d ? MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
        unsigned port = info ? info->port : 0;
        char addr[INET6_ADDRSTRLEN] = "?";

        if (listen->ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *) listen)->sin6_addr, addr, sizeof(addr));
                snprintf(buf, size, "%s://[%s]:%u%s", scheme, addr, port, suffix);
        } else {
                inet_ntop(AF_INET, &((const struct sockaddr_in *) listen)->sin_addr, addr, sizeof(addr));
                snprintf(buf, size, "%s://%s:%u%s", scheme, addr, port, suffix);
        }
}

void server_http_url(Server *s, char *buf, size_t size) {
        server_format_url(&s->listen, s->httpd, s->tls_cert ? "https" : "http", "", buf, size);
}

void server_http_admin_url(Server *s, char *buf, size_t size) {
        server_format_url(&s->admin_listen, s->admin_httpd, s->tls_cert ? "https" : "http", "", buf, size);
}

int server_parse_listen(const char *text, struct sockaddr_storage *ret, socklen_t *ret_len, CoreError *err) {
        _cleanup_free_ char *host = NULL;
        const char *colon, *port_text;
        struct sockaddr_storage ss = {};
        unsigned long port;
        char *end;

        if (text[0] == '[') {
                const char *close = strchr(text, ']');
                if (!close || close[1] != ':')
                        return core_error_set(err, EINVAL, "listen address '%s': expected [IPV6]:PORT",
                                              text);
                host = strndup(text + 1, (size_t) (close - text - 1));
                port_text = close + 2;
        } else {
                colon = strrchr(text, ':');
                if (!colon)
                        return core_error_set(err, EINVAL, "listen address '%s': expected ADDRESS:PORT",
                                              text);
                host = strndup(text, (size_t) (colon - text));
                port_text = colon + 1;
        }
        if (!host)
                return -ENOMEM;
        errno = 0;
        port = strtoul(port_text, &end, 10);
        if (errno || !*port_text || *end || port > 65535)
                return core_error_set(err, EINVAL, "listen address '%s': bad port '%s'", text, port_text);

        if (text[0] == '[') {
                struct sockaddr_in6 *sa = (struct sockaddr_in6 *) &ss;
                sa->sin6_family = AF_INET6;
                sa->sin6_port = htons((uint16_t) port);
                if (inet_pton(AF_INET6, host, &sa->sin6_addr) != 1)
                        return core_error_set(
                                err, EINVAL, "listen address '%s': '%s' is not an IPv6 address", text, host);
                *ret_len = sizeof(*sa);
        } else {
                struct sockaddr_in *sa = (struct sockaddr_in *) &ss;
                sa->sin_family = AF_INET;
                sa->sin_port = htons((uint16_t) port);
                if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
                        return core_error_set(
                                err, EINVAL,
                                "listen address '%s': '%s' is not an IPv4 address (IPv6: [ADDRESS]:PORT)",
                                text, host);
                *ret_len = sizeof(*sa);
        }
        *ret = ss;
        return 0;
}
