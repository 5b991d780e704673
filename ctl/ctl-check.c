/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl check PRODUCT FEATURE: one question, answered with the exit
 * status, so that it serves as a unit's ExecCondition= or in a script. */

#include "ctl-bus.h"
#include "ctl-output.h"

int verb_check(_unused_ int argc, char *argv[], void *userdata) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *product = argv[1], *feature = argv[2], *reason, *description;
        uint64_t expires, grace_end;
        char buf[CTL_TIME_MAX];
        Ctl *c = userdata;
        int licensed, r;

        if (!*product || !*feature)
                return report_error(CTL_EXIT_USAGE, "check needs a product and a feature, neither empty.");

        /* A failure here is 3 (cannot ask) or 4, never 1: "not licensed"
         * is only said when licensed said it. */
        r = ctl_call(c, "CheckFeature", CTL_TIMEOUT_USEC, &reply, "sst", product, feature, c->release_date);
        if (r == 0)
                r = ctl_read_reply(reply, "CheckFeature", "bstt", &licensed, &reason, &expires, &grace_end);
        if (r != 0)
                return r;

        description = reason_description(reason);
        if (c->quiet)
                ;
        else if (c->json) {
                json_object *o = json_object_new_object();

                if (!o)
                        return ctl_oom();
                json_object_object_add(o, "product", json_object_new_string(product));
                json_object_object_add(o, "feature", json_object_new_string(feature));
                json_object_object_add(o, "licensed", json_object_new_boolean(licensed));
                json_object_object_add(o, "reason", json_object_new_string(reason));
                json_object_object_add(o, "description", json_string_or_null(description));
                json_object_object_add(o, "expires", json_timestamp(expires));
                json_object_object_add(o, "grace_end", json_timestamp(grace_end));
                r = json_print(o);
                if (r != 0)
                        return r;
        } else {
                if (licensed && streq(reason, "licensed"))
                        printf("%slicensed%s\n", status_color(reason), ansi_normal());
                else
                        printf("%s%s%s: %s%s%s%s\n", status_color(reason), licensed ? "licensed" : "not licensed",
                               ansi_normal(), reason, description ? " (" : "", description ?: "",
                               description ? ")" : "");
                /* The end date says something when licensed, or when it
                 * is the reason for "no"; not for, say, a missing feature. */
                if (expires && (licensed || streq(reason, "expired") || streq(reason, "feature-expired")))
                        printf("%s: %s\n", licensed ? "Expires" : "Expired", format_timestamp(expires, buf, ""));
                if (grace_end)
                        printf("%s: %s\n", streq(reason, "grace") ? "Grace period ends" : "Validate by",
                               format_timestamp(grace_end, buf, ""));
        }
        return licensed ? CTL_EXIT_SUCCESS : CTL_EXIT_NO;
}
