/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* POST /v1/offline: what the offline page (server-page.c) sends, for the
 * three round trips a machine without network makes by hand: activation
 * (request -> license), validation (request -> receipt, and an upgraded
 * license if there is one) and deactivation (proof -> seat freed). The
 * body names the round trip the person chose, {"kind": "validation",
 * "request": "..."}; "kind" defaults to "activation", what this route
 * answered before it knew the others. A document of another kind is
 * refused with a sentence that says what it is and where it goes, because
 * the person pasting it cannot be expected to read armor headers. */

#include "armor.h"
#include "server.h"

/* Where each kind of document goes, in the page's words. */
static const char *const page_section[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = "Offline activation",
        [MACHINE_REQUEST_VALIDATION] = "Offline validation",
        [MACHINE_REQUEST_DEACTIVATION] = "Offline deactivation",
        [MACHINE_REQUEST_TRIAL] = "Offline trial",
};

/* The answers the vendor sends back, pasted here by mistake. */
static const struct {
        const char *kind;
        const char *sentence;
} answers[] = {
        {"LICENSE",
         "This is a license, the answer to an activation request: install it on the machine with "
         "'licensectl install FILE'."},
        {"VALIDATION RECEIPT",
         "This is a validation receipt, the answer to a validation request: install it on the machine "
         "with 'licensectl install FILE'."},
};

/* The kind the person chose: "kind" in the body, "activation" without. */
static int read_kind(json_object *body, MachineRequestType *ret, Reply *reply) {
        json_object *v;

        if (!json_object_object_get_ex(body, "kind", &v)) {
                *ret = MACHINE_REQUEST_ACTIVATION;
                return 0;
        }
        if (json_object_is_type(v, json_type_string)) {
                *ret = machine_request_type_from_string(json_object_get_string(v));
                if (*ret >= 0)
                        return 0;
        }
        reply_error(reply, 400, "bad-request",
                    "\"kind\" is \"activation\", \"validation\", \"deactivation\" or \"trial\" (the default is "
                    "\"activation\")");
        return -EINVAL;
}

/* Which document the text holds, before anything else is looked at; the
 * first armored block decides, as everywhere. Returns 0 if it is the kind
 * expected, negative after filling in the reply. */
static int check_kind(const char *text, size_t len, MachineRequestType expected, Reply *reply) {
        _cleanup_(armor_done) Armor a = {};
        MachineRequestType t;
        CoreError err = {};
        int r;

        r = armor_decode(text, len, NULL, &a, &err);
        if (r < 0) {
                reply_error(reply, 400, "invalid-request", "%s", core_error_message(&err, r));
                return r;
        }
        t = machine_request_type_from_kind(a.kind);
        if (t == expected)
                return 0;
        if (t >= 0) {
                char noun[64];

                /* "This is a validation request; use Offline validation." */
                snprintf(noun, sizeof(noun), "%s %s", strchr("aeiou", machine_request_noun(t)[0]) ? "an" : "a",
                         machine_request_noun(t));
                reply_error(reply, 400, "wrong-kind", "This is %s; use %s.", noun, page_section[t]);
                return -EMEDIUMTYPE;
        }
        for (size_t i = 0; i < ELEMENTSOF(answers); i++)
                if (streq(a.kind, answers[i].kind)) {
                        reply_error(reply, 400, "wrong-kind", "%s", answers[i].sentence);
                        return -EMEDIUMTYPE;
                }
        reply_error(reply, 400, "wrong-kind", "This is a LICENSED %s, not a document for %s.", a.kind,
                    page_section[expected]);
        return -EMEDIUMTYPE;
}

int api_offline(Server *s, json_object *body, Reply *reply) {
        _cleanup_(machine_request_done) MachineRequest req = MACHINE_REQUEST_INIT;
        MachineRequestType expected;
        const char *text;
        json_object *v;
        size_t len;

        if (read_kind(body, &expected, reply) < 0)
                return 0;
        if (!json_object_object_get_ex(body, "request", &v) || !json_object_is_type(v, json_type_string))
                return reply_error(reply, 400, "bad-request",
                                   "the body needs \"request\": a string holding the armored %s",
                                   machine_request_noun(expected));
        text = json_object_get_string(v);
        len = (size_t) json_object_get_string_len(v);
        if (check_kind(text, len, expected, reply) < 0)
                return 0;

        if (verify_document(text, len, expected, &req, reply) < 0)
                return 0;

        if (expected == MACHINE_REQUEST_ACTIVATION)
                answer_activation(s, &req, reply);
        else if (expected == MACHINE_REQUEST_VALIDATION)
                answer_validation(s, &req, reply);
        else if (expected == MACHINE_REQUEST_TRIAL)
                answer_trial(s, &req, reply);
        else
                answer_deactivation(s, &req, reply);
        /* The page names its download and says which license it was. */
        if (reply->status == 200 && req.license_id)
                json_object_object_add(reply->body, "license_id", json_object_new_string(req.license_id));
        return 0;
}
