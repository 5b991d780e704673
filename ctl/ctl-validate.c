/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl validate: ask the vendor's server now, or make an offline
 * validation request to carry to the vendor. */

#include "ctl-bus.h"
#include "ctl-list.h"
#include "ctl-output.h"

static int validate_offline(Ctl *c, const char *id) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *page = NULL;
        const char *request;
        int r;

        r = ctl_call(c, "RequestOfflineValidation", CTL_TIMEOUT_LONG_USEC, &reply, "sb", id, c->interactive);
        if (r == 0)
                r = ctl_read_reply(reply, "RequestOfflineValidation", "s", &request);
        if (r == 0)
                r = offline_page_of_license(c, id, &page);
        if (r != 0)
                return r;

        r = ctl_emit_document(c, offline_json(c, id, page, request), "request", request, "validation request",
                              false);
        if (r != 0 || c->json)
                return r;
        r = offline_print_way_out(c, page, request, "validation request");
        if (r != 0)
                return r;
        fprintf(instructions_stream(c->output),
                "%s; then install the receipt you receive with:\n"
                "  licensectl install RECEIPT-FILE\n",
                page ? "Or send this validation request to your vendor"
                     : "Send this validation request to your vendor");
        return 0;
}

static bool contains(const char *const *l, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (streq(l[i], s))
                        return true;
        return false;
}

/* Licenses that are not licensed after validation, whether they were asked
 * about online or not (an offline-only license needs no server, and can
 * still run out): says which on stderr (not in JSON), except those whose
 * outcome said so already (the n_reported ids in reported), and returns
 * how many. On error, the negated exit status (the error is printed). */
static int report_trouble(Ctl *c, const char *id, const char *const *reported, size_t n_reported) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ LicenseRow *rows = NULL;
        size_t n = 0;
        int r, troubled = 0;

        r = ctl_list_licenses(c, false, &reply, &rows, &n);
        if (r != 0)
                return -r; /* an exit status, already explained */
        for (size_t i = 0; i < n; i++) {
                if (id[0] && !streq(id, rows[i].id))
                        continue;
                if (streq(rows[i].status, "licensed"))
                        continue;
                troubled++;
                if (!c->json && !contains(reported, n_reported, rows[i].id))
                        fprintf(stderr, "License %s is %s: %s.\n", rows[i].id, rows[i].status,
                                reason_description(rows[i].status) ?: "unknown reason");
        }
        return troubled;
}

int verb_validate(int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(table_freep) Table *t = NULL;
        const char *id = argc > 1 ? argv[1] : "", *outcome, *message;
        _cleanup_free_ const char **reported = NULL; /* ids whose outcome was failed or revoked, in reply */
        json_object *a = NULL;
        Ctl *c = userdata;
        bool failed = false;
        size_t n = 0, n_reported = 0;
        int r;

        if (c->offline) {
                if (!*id)
                        return report_error(CTL_EXIT_USAGE,
                                            "validate --offline needs the ID of one license.");
                return validate_offline(c, id);
        }
        if (c->output || c->qr != QR_AUTO)
                return report_error(CTL_EXIT_USAGE, "--output and --qr go with --offline.");

        r = ctl_call(c, "Validate", CTL_TIMEOUT_LONG_USEC, &reply, "sb", id, c->interactive);
        if (r != 0)
                return r;

        t = table_new("ID", "OUTCOME", "MESSAGE", NULL);
        if (!t || (c->json && !(a = json_object_new_array())))
                return ctl_oom();

        r = sd_bus_message_enter_container(reply, 'a', "(sss)");
        while (r >= 0) {
                const char *lid;

                r = sd_bus_message_read(reply, "(sss)", &lid, &outcome, &message);
                if (r <= 0)
                        break;
                n++;
                if (streq(outcome, "failed") || streq(outcome, "revoked")) {
                        const char **l = reallocarray(reported, n_reported + 1, sizeof(char *));

                        if (!l)
                                return ctl_oom();
                        reported = l;
                        reported[n_reported++] = lid;
                        failed = true;
                }
                if (a) {
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "id", json_object_new_string(lid));
                        json_object_object_add(o, "outcome", json_object_new_string(outcome));
                        json_object_object_add(o, "message", json_object_new_string(message));
                        json_object_array_add(a, o);
                } else if (table_add_cell(t, lid, NULL) < 0 ||
                           table_add_cell(t, outcome, status_color(outcome)) < 0 ||
                           table_add_cell(t, message, NULL) < 0)
                        return ctl_oom();
        }
        if (r >= 0)
                r = sd_bus_message_exit_container(reply);
        if (r < 0) {
                json_object_put(a);
                return report_error(CTL_EXIT_FAILURE,
                                    "licensed sent validation results that cannot be read: %s",
                                    strerror(-r));
        }

        if (a) {
                r = json_print(a);
                if (r != 0)
                        return r;
        } else {
                if (n > 0 && table_print(t, stdout, c->legend, ansi_highlight()) < 0)
                        return ctl_oom();
                if (c->legend)
                        printf("%s%zu license%s validated.\n", n > 0 ? "\n" : "", n, n == 1 ? "" : "s");
        }
        /* Also a license that validation did not concern (no server, no
         * interval) but that is in trouble: grace, expired, revoked, ... */
        r = report_trouble(c, id, reported, n_reported);
        if (r < 0)
                return -r;
        /* So that the timer's service fails, and shows in "systemctl --failed". */
        return failed || r > 0 ? CTL_EXIT_NO : CTL_EXIT_SUCCESS;
}
