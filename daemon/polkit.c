/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>

#include "log.h"
#include "polkit.h"
#include "strutil.h"

#define POLKIT_TIMEOUT_USEC (5 * 60 * USEC_PER_SEC) /* someone may be typing a password */

typedef struct PolkitQuery {
        Context *c;
        PendingCall *call;  /* the method call being authorized */
        sd_bus_slot *slot;  /* the CheckAuthorization call in flight */
        AuthorizedFunc cont;
        bool interactive;
        char action[128];
} PolkitQuery;

/* What each action does, for sentences a person reads (the polkit
 * policy's <description>, in lower case). */
static const char *action_purpose(const char *action) {
        static const struct {
                const char *verb, *purpose;
        } purposes[] = {
                {"activate", "activate a license"},
                {"install", "install a license or a validation receipt"},
                {"deactivate", "deactivate a license"},
                {"validate", "validate licenses"},
                {"site", "join or leave a site server"},
                {"borrow", "borrow or return a floating license seat"},
        };
        const char *verb = startswith(action, POLKIT_ACTION_PREFIX);

        for (size_t i = 0; verb && i < ELEMENTSOF(purposes); i++)
                if (streq(verb, purposes[i].verb))
                        return purposes[i].purpose;
        return "do this";
}

/* Also the call's cancel function: dropping the slot means polkit's answer,
 * should it still come, is never looked at. */
static void query_free(void *userdata) {
        PolkitQuery *q = userdata;

        sd_bus_slot_unref(q->slot);
        pending_call_free(q->call);
        free(q);
}

static int reply_denied(PendingCall *call, const char *action, const char *why) {
        return pending_call_errorf(call, SD_BUS_ERROR_ACCESS_DENIED,
                                   "Not authorized for %s%s%s. Run as root or ask an administrator to grant this "
                                   "polkit action.",
                                   action, why ? ": " : "", why ?: "");
}

static int continue_authorized(sd_bus_message *m, void *userdata) {
        PolkitQuery *q = userdata;

        return q->cont(q->c, m);
}

static int on_polkit_reply(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(reply);
        int authorized = 0, challenge = 0, r;

        if (e) {
                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        r = reply_denied(q->call, q->action, "polkit is not available, so only root may do this");
                else {
                        log_warning("polkit check for %s failed: %s", q->action, e->message);
                        r = reply_denied(q->call, q->action, e->message);
                }
                goto done;
        }
        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r > 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r < 0) {
                r = reply_denied(q->call, q->action, "polkit sent an unexpected reply");
                goto done;
        }
        if (authorized)
                r = pending_call_pass_on(q->call, continue_authorized, q);
        else if (challenge && !q->interactive)
                r = pending_call_errorf(q->call, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                        "Authentication is required to %s (polkit action %s), and this call may "
                                        "not ask for a password.",
                                        action_purpose(q->action), q->action);
        else
                r = reply_denied(q->call, q->action, NULL);
done:
        if (r < 0)
                log_warning_errno(r, "Failed to reply after polkit check: %m");
        query_free(q);
        return 0;
}

static int sender_is_root(sd_bus_message *m) {
        _cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
        uid_t uid;
        int r;

        r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID, &creds);
        if (r < 0)
                return r;
        r = sd_bus_creds_get_euid(creds, &uid);
        if (r < 0)
                return r;
        return uid == 0;
}

int polkit_authorize(Context *c, sd_bus_message *m, const char *verb, bool interactive, AuthorizedFunc cont) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *call = NULL;
        PolkitQuery *q;
        const char *sender;
        int r;

        r = sender_is_root(m);
        if (r < 0)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED,
                                                  "Cannot tell who is calling: %s", strerror(-r));
        if (r > 0)
                return cont(c, m);

        sender = sd_bus_message_get_sender(m);
        if (!sender)
                return sd_bus_reply_method_errorf(m, SD_BUS_ERROR_ACCESS_DENIED, "Cannot tell who is calling");

        q = calloc(1, sizeof(*q));
        if (!q)
                return -ENOMEM;
        r = pending_call_new(&c->calls, m, &q->call);
        if (r < 0) {
                free(q);
                return r;
        }
        pending_call_set_cancel(q->call, query_free, q);
        q->c = c;
        q->cont = cont;
        q->interactive = interactive;
        snprintf(q->action, sizeof(q->action), POLKIT_ACTION_PREFIX "%s", verb);

        r = sd_bus_message_new_method_call(c->bus, &call, "org.freedesktop.PolicyKit1",
                                           "/org/freedesktop/PolicyKit1/Authority",
                                           "org.freedesktop.PolicyKit1.Authority", "CheckAuthorization");
        if (r >= 0)
                r = sd_bus_message_append(call, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender,
                                          q->action, 0, (uint32_t) (interactive ? 1 : 0), "");
        if (r >= 0)
                r = sd_bus_call_async(c->bus, &q->slot, call, on_polkit_reply, q, POLKIT_TIMEOUT_USEC);
        if (r < 0) {
                /* The answer sd-bus would give had this handler failed. */
                (void) pending_call_errno(q->call, r);
                query_free(q);
        }
        return 1;
}
