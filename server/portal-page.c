/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The portal's HTML: the sign-in page, the entitlement's page and a page
 * with a sentence. Every text from the database or the vendor's options is
 * escaped; the vendor's colour goes into the stylesheet, whose SHA-256 the
 * Content-Security-Policy names, and the logo's origin is the only image
 * source. The options are checked here too (portal_check_*()), since this
 * file is where they end up in a page. */

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "portal.h"
#include "server.h"
#include "timeutil.h"

#define DEFAULT_TITLE "License portal"
#define DEFAULT_COLOR "#0b5cad"
#define TEXT_OPTION_MAX 200

void portal_html_escape(FILE *f, const char *s) {
        for (; s && *s; s++)
                switch (*s) {
                case '&': fputs("&amp;", f); break;
                case '<': fputs("&lt;", f); break;
                case '>': fputs("&gt;", f); break;
                case '"': fputs("&quot;", f); break;
                case '\'': fputs("&#39;", f); break;
                default: fputc(*s, f);
                }
}

void portal_format_time(int64_t t, char buf[static 32]) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%d %H:%M UTC", &tm) == 0)
                snprintf(buf, 32, "%" PRId64, t);
}

/* Options -------------------------------------------------------------------- */

int portal_check_color(const char *v, CoreError *err) {
        if (strlen(v) != 7 || v[0] != '#' || strspn(v + 1, "0123456789abcdefABCDEF") != 6)
                return core_error_set(err, EINVAL, "--portal-color: '%s' is not a colour #rrggbb (such as #0b5cad)",
                                      v);
        return 0;
}

/* An https:// URL of printable characters, none of which could end a
 * header value, an attribute or a CSP source list. */
static bool https_url(const char *v) {
        static const char allowed[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#@!$&()*+=%";

        return strncmp(v, "https://", 8) == 0 && v[8] && v[8] != '/' && strlen(v) <= 512 &&
               strspn(v, allowed) == strlen(v);
}

int portal_check_logo_url(const char *v, CoreError *err) {
        if (!https_url(v))
                return core_error_set(err, EINVAL,
                                      "--portal-logo-url: '%s' is not an https:// URL (only https, and no "
                                      "spaces, quotes, commas or semicolons)",
                                      v);
        return 0;
}

int portal_check_support(const char *v, CoreError *err) {
        const char *at = strchr(v, '@');

        if (https_url(v))
                return 0;
        if (at && at != v && !strchr(at + 1, '@') && strchr(at + 1, '.') && strlen(v) <= 254 &&
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_+@") == strlen(v))
                return 0;
        return core_error_set(err, EINVAL,
                              "--portal-support: '%s' is neither an e-mail address (support@example.com) nor an "
                              "https:// URL",
                              v);
}

int portal_check_title(const char *v, CoreError *err) {
        if (!*v || strlen(v) > TEXT_OPTION_MAX)
                return core_error_set(err, EINVAL, "--portal-title: the title must have 1 to %d bytes",
                                      TEXT_OPTION_MAX);
        for (const char *p = v; *p; p++)
                if ((unsigned char) *p < 0x20 || *p == 0x7f)
                        return core_error_set(err, EINVAL, "--portal-title: the title has a control character");
        return 0;
}

/* The portal's life ------------------------------------------------------------ */

int portal_new(const PortalOptions *o, Portal **ret) {
        _cleanup_free_ char *style_hash = NULL, *img = NULL;
        Portal *p;
        int r;

        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->options = *o;
        r = portal_sessions_init(&p->sessions, PORTAL_SESSIONS_MAX, o->idle_sec);
        if (r >= 0)
                r = ratelimit_new(PORTAL_SIGN_IN_RATE, PORTAL_SIGN_IN_BURST, 4096, &p->sign_in);
        if (r >= 0 && asprintf(&p->style, "%s:root{--accent:%s}\n", portal_css, o->color ?: DEFAULT_COLOR) < 0) {
                p->style = NULL;
                r = -ENOMEM;
        }
        if (r >= 0)
                r = server_csp_hash(p->style, &style_hash);
        /* The logo's origin, "https://host[:port]": a CSP source has no query. */
        if (r >= 0 && o->logo_url && !(img = strndup(o->logo_url, 8 + strcspn(o->logo_url + 8, "/?#"))))
                r = -ENOMEM;
        if (r >= 0 && asprintf(&p->csp,
                               "default-src 'none'; style-src %s; img-src %s; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
                               style_hash, img ?: "'none'") < 0) {
                p->csp = NULL;
                r = -ENOMEM;
        }
        if (r < 0) {
                portal_free(p);
                return r;
        }
        *ret = p;
        return 0;
}

Portal *portal_free(Portal *p) {
        if (!p)
                return NULL;
        portal_sessions_done(&p->sessions);
        ratelimit_free(p->sign_in);
        free(p->style);
        free(p->csp);
        free(p);
        return NULL;
}

/* Pages -------------------------------------------------------------------------- */

static void page_head(const Portal *p, FILE *f, const char *title) {
        const char *brand = p->options.title ?: DEFAULT_TITLE;

        fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
              f);
        portal_html_escape(f, title);
        fputs(" — ", f);
        portal_html_escape(f, brand);
        fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n<header>", p->style);
        if (p->options.logo_url) {
                fputs("<img src=\"", f);
                portal_html_escape(f, p->options.logo_url);
                fputs("\" alt=\"\">", f);
        }
        fputs("<span class=\"title\">", f);
        portal_html_escape(f, brand);
        fputs("</span></header>\n<main>\n", f);
}

static void page_foot(const Portal *p, FILE *f) {
        const char *support = p->options.support;

        fputs("</main>\n<footer>", f);
        if (support) {
                bool url = strncmp(support, "https://", 8) == 0;

                fprintf(f, "Questions about your license? Contact <a href=\"%s", url ? "" : "mailto:");
                portal_html_escape(f, support);
                fputs("\">", f);
                portal_html_escape(f, support);
                fputs("</a>.", f);
        }
        fputs("</footer>\n</body>\n</html>\n", f);
}

static void csrf_field(FILE *f, const char *csrf) {
        fprintf(f, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", csrf);
}

static void paragraph(FILE *f, const char *class, const char *text) {
        if (!text || !*text)
                return;
        fprintf(f, "<p class=\"%s\" role=\"%s\">", class, streq(class, "error") ? "alert" : "status");
        portal_html_escape(f, text);
        fputs("</p>\n", f);
}

void portal_page_sign_in(const Portal *p, FILE *f, const char *csrf, const char *error) {
        page_head(p, f, "Sign in");
        fputs("<h1>Sign in with your license key</h1>\n", f);
        paragraph(f, "error", error);
        fputs("<p>Your license key came with your purchase: five groups of five letters and digits, such as\n"
              "<code>DH4GX-7KQ2M-…</code>. Here you see what it licenses and which machines use it, release a\n"
              "machine you no longer use, and download a machine's license.</p>\n"
              "<form method=\"post\" action=\"/portal/sign-in\">\n",
              f);
        csrf_field(f, csrf);
        fputs("\n<label for=\"key\">License key</label>\n"
              "<input type=\"text\" id=\"key\" name=\"key\" autocomplete=\"off\" spellcheck=\"false\" required "
              "autofocus placeholder=\"XXXXX-XXXXX-XXXXX-XXXXX-XXXXX\">\n"
              "<div><button type=\"submit\" class=\"action\" id=\"sign-in\">Sign in</button></div>\n</form>\n",
              f);
        page_foot(p, f);
}

void portal_page_message(const Portal *p, FILE *f, const char *title, const char *message) {
        page_head(p, f, title);
        fputs("<h1>", f);
        portal_html_escape(f, title);
        fputs("</h1>\n", f);
        paragraph(f, "error", message);
        fputs("<p><a class=\"action\" href=\"/portal\">Back to the portal</a></p>\n", f);
        page_foot(p, f);
}

static void fact(FILE *f, const char *name, const char *value) {
        fprintf(f, "<dt>%s</dt><dd>", name);
        portal_html_escape(f, value);
        fputs("</dd>\n", f);
}

static void fact_time(FILE *f, const char *name, int64_t t, const char *unset) {
        char buf[32];

        if (t != TIME_UNSET)
                portal_format_time(t, buf);
        fact(f, name, t != TIME_UNSET ? buf : unset);
}

static void features(FILE *f, const License *l) {
        char buf[32];

        fputs("<h2>Features</h2>\n", f);
        if (l->n_features == 0) {
                fputs("<p>This license has no separate features: the product as a whole.</p>\n", f);
                return;
        }
        fputs("<table id=\"features\">\n<tr><th>Feature</th><th>Limit</th><th>Until</th></tr>\n", f);
        for (size_t i = 0; i < l->n_features; i++) {
                const LicenseFeature *ft = &l->features[i];

                fputs("<tr><td>", f);
                portal_html_escape(f, ft->name);
                if (ft->limit > 0)
                        fprintf(f, "</td><td>%" PRIu32 "</td><td>", ft->limit);
                else
                        fputs("</td><td>no limit</td><td>", f);
                if (ft->expires != TIME_UNSET)
                        portal_format_time(ft->expires, buf);
                portal_html_escape(f, ft->expires != TIME_UNSET ? buf : "as long as the license");
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
}

/* The release policy, and with a limit how much of it is used: used
 * releases in the window, the oldest of them at oldest. */
static void release_policy(const Portal *p, FILE *f, unsigned used, int64_t oldest) {
        unsigned limit = p->options.release_limit;
        char buf[32];

        fputs("<p class=\"muted\" id=\"release-policy\">Releasing a machine frees its seat, so the key can be "
              "activated on another machine; the released machine stops being licensed at its next validation.",
              f);
        if (limit > 0) {
                fprintf(f, " You can release %u machine%s in any 30 days: <span id=\"releases-used\">%u of %u "
                           "release%s used in the last 30 days</span>.",
                        limit, limit == 1 ? "" : "s", used, limit, limit == 1 ? "" : "s");
                /* As the refused release says: when the oldest leaves the window. */
                if (used >= limit) {
                        portal_format_time(oldest + PORTAL_RELEASE_WINDOW_SEC, buf);
                        fprintf(f, " The next release is possible on <span id=\"next-release\">%s</span>.", buf);
                }
        }
        fputs("</p>\n", f);
}

static void activations(const Portal *p, FILE *f, const PortalSession *session, const Activation *a, size_t n,
                        unsigned used, int64_t oldest) {
        char buf[32];

        fputs("<h2>Machines</h2>\n", f);
        if (n == 0) {
                fputs("<p>No machine has activated this key yet.</p>\n", f);
                return;
        }
        fputs("<table id=\"activations\">\n<tr><th>Machine</th><th>Activated</th><th>Last seen</th><th>State</th>"
              "<th></th></tr>\n",
              f);
        for (size_t i = 0; i < n; i++) {
                bool active = a[i].released == TIME_UNSET;

                fputs("<tr><td>", f);
                portal_html_escape(f, a[i].hostname ?: "(no host name)");
                fputs("<br><span class=\"muted\">", f);
                portal_html_escape(f, a[i].license_id);
                fputs("</span></td><td>", f);
                portal_format_time(a[i].activated, buf);
                portal_html_escape(f, buf);
                fputs("</td><td>", f);
                portal_format_time(a[i].last_seen, buf);
                portal_html_escape(f, buf);
                if (active)
                        fputs("</td><td class=\"state-active\">Active</td><td>", f);
                else {
                        portal_format_time(a[i].released, buf);
                        fprintf(f, "</td><td class=\"state-released\">Released %s</td><td>", buf);
                }
                if (active) {
                        fputs("<a class=\"action small secondary\" href=\"/portal/license/", f);
                        portal_html_escape(f, a[i].license_id);
                        fputs("\">Download license</a>"
                              "<form class=\"inline\" method=\"post\" action=\"/portal/release\">",
                              f);
                        csrf_field(f, session->csrf);
                        fputs("<input type=\"hidden\" name=\"license_id\" value=\"", f);
                        portal_html_escape(f, a[i].license_id);
                        fputs("\"><button type=\"submit\" class=\"action small\">Release</button></form>", f);
                }
                fputs("</td></tr>\n", f);
        }
        fputs("</table>\n", f);
        release_policy(p, f, used, oldest);
}

void portal_page_entitlement(const Portal *p, FILE *f, const PortalSession *session, const Entitlement *e,
                             const Activation *a, size_t n_a, unsigned releases_used, int64_t oldest_release,
                             const char *error, int64_t now) {
        const License *l = &e->license;
        char masked[LICENSE_KEY_STRING_SIZE], seats[64];

        page_head(p, f, l->product);
        license_key_mask(e->key, masked);
        fputs("<div class=\"top\"><h1>", f);
        portal_html_escape(f, l->product);
        fputs("</h1><form method=\"post\" action=\"/portal/sign-out\">", f);
        csrf_field(f, session->csrf);
        fputs("<button type=\"submit\" class=\"action secondary\" id=\"sign-out\">Sign out</button></form></div>\n",
              f);
        paragraph(f, "notice", session->notice);
        paragraph(f, "error", error);
        fputs("<dl class=\"facts\" id=\"entitlement\">\n", f);
        fact(f, "License key", masked);
        fact(f, "Licensee", l->licensee);
        fact(f, "Type", license_type_to_string(l->type));
        fact(f, "State", e->revoked ? "revoked by the vendor"
                         : l->not_after != TIME_UNSET && now >= l->not_after ? "expired"
                                                                               : "active");
        fact_time(f, "Valid from", l->not_before, "the day of activation");
        fact_time(f, "Valid until", l->not_after, "no end (perpetual)");
        fact_time(f, "Maintenance until", l->maintenance_until, "all versions");
        snprintf(seats, sizeof(seats), "%" PRIu32 " of %" PRIu32 " in use", e->active, e->seats);
        fact(f, "Seats", seats);
        fputs("</dl>\n", f);
        features(f, l);
        activations(p, f, session, a, n_a, releases_used, oldest_release);
        fputs("<h2>Machines without network</h2>\n"
              "<p>A machine that cannot reach this server does each round trip through a page: "
              "<code>licensectl</code> prints a request (and a link and QR code) to carry here.</p>\n"
              "<p><a class=\"action secondary\" href=\"/offline#activation\">Offline activation</a>"
              "<a class=\"action secondary\" href=\"/offline#validation\">Offline validation</a>"
              "<a class=\"action secondary\" href=\"/offline#deactivation\">Offline deactivation</a></p>\n",
              f);
        page_foot(p, f);
}
