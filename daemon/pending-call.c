/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stdarg.h>
#include <stdlib.h>

#include "log.h"
#include "pending-call.h"

struct PendingCall {
        PendingCall *next, *prev; /* in set->calls while in flight */
        PendingCalls *set;        /* NULL once answered */
        sd_bus_message *message;
        PendingCallCancel cancel;
        void *cancel_userdata;
        bool ended;
        bool cancelled;
};

int pending_call_new(PendingCalls *set, sd_bus_message *m, PendingCall **ret) {
        PendingCall *pc;

        assert(set);
        assert(m);
        assert(ret);

        pc = calloc(1, sizeof(*pc));
        if (!pc)
                return -ENOMEM;
        pc->message = sd_bus_message_ref(m);
        pc->set = set;
        pc->next = set->calls;
        if (set->calls)
                set->calls->prev = pc;
        set->calls = pc;
        set->n++;
        *ret = pc;
        return 0;
}

void pending_call_set_cancel(PendingCall *pc, PendingCallCancel cancel, void *userdata) {
        assert(pc);
        pc->cancel = cancel;
        pc->cancel_userdata = userdata;
}

sd_bus_message *pending_call_message(const PendingCall *pc) {
        assert(pc);
        return pc->message;
}

bool pending_call_is_answered(const PendingCall *pc) {
        assert(pc);
        return pc->ended || pc->cancelled;
}

static void unlink_call(PendingCall *pc) {
        PendingCalls *set = pc->set;

        assert(set && set->n > 0);
        if (pc->prev)
                pc->prev->next = pc->next;
        else
                set->calls = pc->next;
        if (pc->next)
                pc->next->prev = pc->prev;
        pc->next = pc->prev = NULL;
        pc->set = NULL;
        set->n--;
}

/* After the answer went out (or could not): out of the count, and the
 * set's owner told if that was the last one, after it is gone. */
static void call_ended(PendingCall *pc) {
        PendingCalls *set = pc->set;

        pc->ended = true;
        unlink_call(pc);
        if (set->n == 0 && set->drained)
                set->drained(set->userdata);
}

/* Whether an end should do anything: not after a cancel, which answered
 * already. Twice is a bug in the caller. */
static bool call_may_end(const PendingCall *pc) {
        assert(pc);
        assert(!pc->ended);
        return !pc->cancelled;
}

int pending_call_return(PendingCall *pc, const char *types, ...) {
        va_list ap;
        int r;

        if (!call_may_end(pc))
                return 0;
        va_start(ap, types);
        r = sd_bus_reply_method_returnv(pc->message, types, ap);
        va_end(ap);
        /* Most likely out of memory building it: a short error may still
         * go out, and the caller stops waiting. */
        if (r < 0)
                (void) sd_bus_reply_method_errno(pc->message, r, NULL);
        call_ended(pc);
        return r;
}

int pending_call_send(PendingCall *pc, sd_bus_message *reply) {
        int r;

        assert(reply);
        if (!call_may_end(pc))
                return 0;
        r = sd_bus_send(NULL, reply, NULL);
        call_ended(pc);
        return r;
}

int pending_call_error(PendingCall *pc, const sd_bus_error *e) {
        int r;

        assert(e);
        if (!call_may_end(pc))
                return 0;
        r = sd_bus_reply_method_error(pc->message, e);
        call_ended(pc);
        return r;
}

int pending_call_errorf(PendingCall *pc, const char *name, const char *fmt, ...) {
        va_list ap;
        int r;

        assert(name);
        if (!call_may_end(pc))
                return 0;
        va_start(ap, fmt);
        r = sd_bus_reply_method_errorfv(pc->message, name, fmt, ap);
        va_end(ap);
        call_ended(pc);
        return r;
}

int pending_call_errno(PendingCall *pc, int error) {
        int r;

        if (!call_may_end(pc))
                return 0;
        r = sd_bus_reply_method_errno(pc->message, error, NULL);
        call_ended(pc);
        return r;
}

int pending_call_pass_on(PendingCall *pc, PendingCallContinue f, void *userdata) {
        int r;

        assert(f);
        if (!call_may_end(pc))
                return 0;
        r = f(pc->message, userdata);
        call_ended(pc);
        return r;
}

PendingCall *pending_call_free(PendingCall *pc) {
        if (!pc)
                return NULL;
        if (!pending_call_is_answered(pc)) {
                const char *member = sd_bus_message_get_member(pc->message) ?: "this";

                log_error("Bug: the %s call was about to be dropped unanswered; answering with an error.", member);
                (void) pending_call_errorf(pc, SD_BUS_ERROR_FAILED,
                                           "licensed could not finish the %s call (an internal error). Check "
                                           "its effect (licensectl status) before trying again.",
                                           member);
        }
        sd_bus_message_unref(pc->message);
        free(pc);
        return NULL;
}

void pending_calls_cancel_all(PendingCalls *set, const char *why) {
        assert(set);
        assert(why);

        /* The cancel function frees its call, so always take the first. */
        while (set->calls) {
                PendingCall *pc = set->calls;
                int r;

                r = sd_bus_reply_method_errorf(pc->message, SD_BUS_ERROR_NO_REPLY, "%s", why);
                if (r < 0)
                        log_internal(LOG_DEBUG, r, "Failed to answer a call in flight at shutdown: %m");
                pc->cancelled = true;
                unlink_call(pc);
                if (pc->cancel)
                        pc->cancel(pc->cancel_userdata);
        }
}
