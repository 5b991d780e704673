/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensed-site's HTTPS side: libmicrohttpd with TLS, one internal thread
 * (a LAN's clients heartbeat every few tens of seconds; one signature per
 * answer is the cost), bodies bounded, every answer JSON. The routes and
 * what they do are site-handlers.c's. */

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "site.h"

#define CONNECTIONS_MAX 512
#define CONNECTION_TIMEOUT_SEC 10

typedef struct Upload {
        char *body;
        size_t len;
        bool too_large;
} Upload;

void site_reply_done(SiteReply *r) {
        json_object_put(r->body);
        *r = (SiteReply) {};
}

int site_reply_error(SiteReply *r, unsigned status, const char *code, const char *fmt, ...) {
        char message[512];
        json_object *e;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(message, sizeof(message), fmt, ap);
        va_end(ap);
        json_object_put(r->body);
        r->status = status;
        r->body = json_object_new_object();
        e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(code));
        json_object_object_add(e, "message", json_object_new_string(message));
        json_object_object_add(r->body, "error", e);
        return 0;
}

static enum MHD_Result send_json(struct MHD_Connection *c, const char *method, const char *url, SiteReply *reply) {
        const char *text;
        struct MHD_Response *resp;
        enum MHD_Result ret;

        if (!reply->body)
                site_reply_error(reply, 500, "internal", "the site server has no answer");
        text = json_object_to_json_string_ext(reply->body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
        log_debug("%s %s: %u", method, url, reply->status);
        resp = MHD_create_response_from_buffer(strlen(text), (void *) text, MHD_RESPMEM_MUST_COPY);
        if (!resp)
                return MHD_NO;
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
        ret = MHD_queue_response(c, reply->status, resp);
        MHD_destroy_response(resp);
        return ret;
}

static bool is_json(const char *type) {
        size_t n = strlen("application/json");
        return type && strncasecmp(type, "application/json", n) == 0 && (type[n] == 0 || type[n] == ';');
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls) {
        _cleanup_(site_reply_done) SiteReply reply = {};
        Site *s = cls;
        Upload *u = *con_cls;

        if (!u) {
                u = calloc(1, sizeof(*u));
                if (!u)
                        return MHD_NO;
                *con_cls = u;
                return MHD_YES;
        }
        if (*upload_data_size > 0) {
                size_t n = *upload_data_size;
                char *m;

                *upload_data_size = 0;
                if (u->too_large || u->len + n > SITE_BODY_MAX) {
                        u->too_large = true;
                        return MHD_YES;
                }
                m = realloc(u->body, u->len + n + 1);
                if (!m)
                        return MHD_NO;
                u->body = m;
                memcpy(u->body + u->len, upload_data, n);
                u->len += n;
                u->body[u->len] = 0;
                return MHD_YES;
        }

        if (u->too_large)
                site_reply_error(&reply, 413, "too-large", "the body is larger than %d bytes", SITE_BODY_MAX);
        else if (streq(method, "POST") &&
                 !is_json(MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE)))
                site_reply_error(&reply, 415, "unsupported-media-type",
                                 "the body must be JSON with Content-Type: application/json");
        else
                site_handle(s, method, url, u->body, u->len, &reply);
        return send_json(c, method, url, &reply);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe) {
        Upload *u = *con_cls;

        if (!u)
                return;
        free(u->body);
        free(u);
        *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
        char line[512];
        size_t n;

        vsnprintf(line, sizeof(line), fmt, ap);
        n = strlen(line);
        while (n > 0 && line[n - 1] == '\n')
                line[--n] = 0;
        log_warning("microhttpd: %s", line);
}

int site_http_start(Site *s, CoreError *err) {
        unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG | MHD_USE_TLS;

        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
                return core_error_set(err, EOPNOTSUPP, "this libmicrohttpd was built without TLS");
        if (s->listen.ss_family == AF_INET6)
                flags |= MHD_USE_IPv6;
        s->httpd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
                                    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
                                    MHD_OPTION_SOCK_ADDR, (struct sockaddr *) &s->listen,
                                    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned) CONNECTION_TIMEOUT_SEC,
                                    MHD_OPTION_CONNECTION_LIMIT, (unsigned) CONNECTIONS_MAX,
                                    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t) (32 * 1024),
                                    MHD_OPTION_LISTENING_ADDRESS_REUSE, 1,
                                    MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                                    MHD_OPTION_HTTPS_MEM_CERT, s->tls_cert,
                                    MHD_OPTION_HTTPS_MEM_KEY, s->tls_key,
                                    MHD_OPTION_END);
        if (!s->httpd)
                return core_error_set(err, EADDRNOTAVAIL,
                                      "cannot listen (address in use or not local?); see the microhttpd message "
                                      "above");
        return 0;
}

void site_http_stop(Site *s) {
        if (s->httpd)
                MHD_stop_daemon(s->httpd);
        s->httpd = NULL;
}

unsigned site_http_port(Site *s) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->httpd, MHD_DAEMON_INFO_BIND_PORT);
        return info ? info->port : 0;
}

int site_parse_listen(const char *text, struct sockaddr_storage *ret, CoreError *err) {
        _cleanup_free_ char *copy = strdup(text);
        struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
        struct addrinfo *ai = NULL;
        char *host, *port;
        int r;

        if (!copy)
                return -ENOMEM;
        port = strrchr(copy, ':');
        if (!port)
                return core_error_set(err, EINVAL, "listen address '%s': expected ADDRESS:PORT or [ADDRESS]:PORT",
                                      text);
        *port++ = 0;
        host = copy;
        if (host[0] == '[') {
                size_t n = strlen(host);
                if (n < 2 || host[n - 1] != ']')
                        return core_error_set(err, EINVAL, "listen address '%s': expected [ADDRESS]:PORT", text);
                host[n - 1] = 0;
                host++;
        }
        r = getaddrinfo(host, port, &hints, &ai);
        if (r != 0 || !ai)
                return core_error_set(err, EINVAL, "listen address '%s': %s", text,
                                      r ? gai_strerror(r) : "no address");
        memcpy(ret, ai->ai_addr, ai->ai_addrlen);
        freeaddrinfo(ai);
        return 0;
}
