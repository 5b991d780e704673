/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl: the way an offline document leaves the machine. Besides the
 * text (and --output FILE), the offline page's URL with the document in its
 * fragment, "https://vendor/offline#request=K.KEYID.SIGNATURE.BODY"
 * (docs/offline.md): a browser never sends the fragment, so the request
 * (an activation request holds the license key) stays out of the server's
 * logs, and the page's script rebuilds the armored text from it. The QR
 * code holds that URL, so a phone opens the page filled in.
 *
 * The encoding is the armor without its fixed lines: the kind as one
 * letter, the key id as it is, the signature and the body in base64url
 * without padding (no newlines, nothing a URL must escape). A real
 * activation request makes a URL of about 500 characters on a short host
 * name: a QR code of version 16 or so (81 modules + the quiet zone), which
 * a phone reads off a screen. Where it does not fit (a terminal narrower
 * than that), the QR code holds the page's plain URL and the person
 * carries the request as a file: said so. */

#include "armor.h"
#include "base64.h"
#include "ctl-bus.h"
#include "ctl-list.h"
#include "ctl-output.h"
#include "request.h"

static const char url_letters[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = 'a',
        [MACHINE_REQUEST_VALIDATION] = 'v',
        [MACHINE_REQUEST_DEACTIVATION] = 'd',
        [MACHINE_REQUEST_TRIAL] = 't',
};

/* base64url without padding, in place of standard base64. */
static char *base64url(const uint8_t *data, size_t len) {
        char *s = base64_encode(data, len);

        if (!s)
                return NULL;
        for (char *p = s; *p; p++)
                if (*p == '+')
                        *p = '-';
                else if (*p == '/')
                        *p = '_';
                else if (*p == '=') {
                        *p = 0;
                        break;
                }
        return s;
}

int offline_request_url(const char *page, const char *document, char **ret) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_free_ char *sig = NULL, *body = NULL;
        MachineRequestType t;
        size_t page_len;
        int r;

        r = armor_decode(document, strlen(document), NULL, &a, NULL);
        if (r < 0)
                return r;
        t = machine_request_type_from_kind(a.kind);
        if (t < 0)
                return -EMEDIUMTYPE;
        sig = base64url(a.signature, sizeof(a.signature));
        body = base64url(a.body, a.body_len);
        if (!sig || !body)
                return -ENOMEM;
        page_len = strcspn(page, "#"); /* a fragment of its own would hide ours */
        if (asprintf(ret, "%.*s#request=%c.%s.%s.%s", (int) page_len, page, url_letters[t], a.key_id, sig,
                     body) < 0)
                return -ENOMEM;
        return 0;
}

int offline_page_of_license(Ctl *c, const char *id, char **ret) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *lreply = NULL, *preply = NULL;
        _cleanup_free_ LicenseRow *licenses = NULL;
        _cleanup_free_ ProductRow *products = NULL;
        const char *product = NULL;
        size_t n_licenses = 0, n_products = 0;
        int r;

        *ret = NULL;
        r = ctl_list_licenses(c, false, &lreply, &licenses, &n_licenses);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n_licenses && !product; i++)
                if (streq(licenses[i].id, id))
                        product = licenses[i].product;
        if (!product)
                return 0; /* the call itself names the license that is not there */
        r = ctl_list_products(c, &preply, &products, &n_products);
        if (r != 0)
                return r;
        for (size_t i = 0; i < n_products; i++)
                if (streq(products[i].id, product) && *products[i].offline_url) {
                        *ret = strdup(products[i].offline_url);
                        return *ret ? 0 : ctl_oom();
                }
        return 0;
}

json_object *offline_json(const Ctl *c, const char *id, const char *page, const char *document) {
        _cleanup_free_ char *url = NULL;
        json_object *o;

        if (!c->json || !(o = json_object_new_object()))
                return NULL;
        if (id)
                json_object_object_add(o, "id", json_object_new_string(id));
        if (page && offline_request_url(page, document, &url) < 0)
                url = NULL;
        json_object_object_add(o, "url", page ? json_object_new_string(page) : NULL);
        json_object_object_add(o, "request_url", url ? json_object_new_string(url) : NULL);
        return o;
}

/* The QR code of text, if --qr and the terminal say so. Returns what
 * print_qr_code() does, 0 when none was wanted. */
static int qr(const Ctl *c, const char *text) {
        if (c->qr == QR_NEVER || (c->qr == QR_AUTO && !isatty(STDOUT_FILENO)))
                return 0;
        putchar('\n');
        return print_qr_code(stdout, text, c->qr == QR_AUTO);
}

static void qr_trouble(int r, const char *what) {
        if (r == -E2BIG)
                printf("(The QR code of %s is wider than this terminal: widen the window and run again to "
                       "see it.)\n",
                       what);
        else if (r == -ERANGE)
                printf("(%s is too long for a QR code; carry it as a file.)\n", what);
        else if (r < 0)
                printf("(Cannot draw the QR code: %s.)\n", strerror(-r));
}

int offline_print_way_out(const Ctl *c, const char *page, const char *document, const char *what) {
        _cleanup_free_ char *url = NULL;
        FILE *f = instructions_stream(c->output);
        int r;

        if (!page || !*page) {
                /* No page to open: the QR code carries the document itself. */
                r = qr(c, document);
                qr_trouble(r, "this document");
                if (r != 0)
                        putchar('\n');
                return 0;
        }
        r = offline_request_url(page, document, &url);
        if (r < 0)
                return report_error(CTL_EXIT_FAILURE, "cannot put the %s into a URL: %s.", what, strerror(-r));

        r = qr(c, url);
        if (r == -E2BIG || r == -ERANGE) {
                /* The page without the request still helps: the person
                 * carries the file there and pastes it. */
                int plain = qr(c, page);

                if (plain > 0)
                        printf("(The %s does not fit in a QR code %s: this one opens %s; carry the %s "
                               "there as a file and paste it.)\n",
                               what, r == -E2BIG ? "this terminal can show" : "at all", page, what);
                else
                        qr_trouble(plain, "the page's address");
        } else
                qr_trouble(r, "the link");
        if (r != 0)
                putchar('\n');
        fflush(stdout);
        fprintf(f, "On a machine with network, open this link (it carries the %s), or open %s and paste "
                   "the %s:\n  %s\n",
                what, page, what, url);
        return 0;
}
