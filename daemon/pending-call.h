/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* A method call that is answered later: after polkit has decided, or a
 * licensing server has answered. The object holds a reference on the
 * call's message and is the one way to answer it, so every such call is
 * answered exactly once:
 *
 *   - pending_call_return(), _send(), _error(), _errorf(), _errno() and
 *     _pass_on() end it. Ending it a second time is a bug (assert).
 *   - pending_calls_cancel_all() (licensed shutting down) answers every call
 *     still in flight with an error and tells each owner, through the
 *     function given to pending_call_set_cancel(), to free what it holds.
 *     An owner that still ends its call after that does nothing.
 *   - pending_call_free() of a call never ended answers it with an error
 *     (and logs the bug) rather than leave the caller waiting until its bus
 *     timeout; so _cleanup_(pending_call_freep) is safe on every path.
 *
 * The set counts the calls in flight (neither ended nor cancelled): the
 * idle exit waits for them. */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef struct PendingCall PendingCall;

typedef struct PendingCalls {
        PendingCall *calls; /* in flight, newest first */
        unsigned n;
        /* Called each time an ended call leaves the set empty (not by
         * pending_calls_cancel_all(), which is teardown). */
        void (*drained)(void *userdata);
        void *userdata;
} PendingCalls;

/* Told that its call was cancelled (already answered): free what the call
 * needs, including the PendingCall itself. */
typedef void (*PendingCallCancel)(void *userdata);

/* Takes over answering M (a method call) until ended; counts it in SET. */
int pending_call_new(PendingCalls *set, sd_bus_message *m, PendingCall **ret);
void pending_call_set_cancel(PendingCall *pc, PendingCallCancel cancel, void *userdata);
PendingCall *pending_call_free(PendingCall *pc);
DEFINE_TRIVIAL_CLEANUP_FUNC(PendingCall *, pending_call_free);

/* The method call, for reading its arguments or building a reply to it. */
sd_bus_message *pending_call_message(const PendingCall *pc);
/* Ended or cancelled: nothing more will be sent. */
bool pending_call_is_answered(const PendingCall *pc);

/* Ending it. Each returns what sending returned (negative errno if the
 * answer could not be sent: the call counts as ended all the same, since
 * trying again would not help), or 0 if the call had been cancelled. */
int pending_call_return(PendingCall *pc, const char *types, ...);
/* REPLY built with sd_bus_message_new_method_return(pending_call_message()). */
int pending_call_send(PendingCall *pc, sd_bus_message *reply);
int pending_call_error(PendingCall *pc, const sd_bus_error *e);
int pending_call_errorf(PendingCall *pc, const char *name, const char *fmt, ...) _printf_(3, 4);
int pending_call_errno(PendingCall *pc, int error);

/* Ends it by handing the message to F, which answers it, now or through a
 * pending call of its own (an authorized call going on to its server).
 * The call leaves the set only after F has run, so the count never drops
 * to zero in between. Returns F's result. */
typedef int (*PendingCallContinue)(sd_bus_message *m, void *userdata);
int pending_call_pass_on(PendingCall *pc, PendingCallContinue f, void *userdata);

static inline unsigned pending_calls_count(const PendingCalls *set) {
        return set->n;
}

/* Answers every call in flight with org.freedesktop.DBus.Error.NoReply (a
 * client takes it exactly as the bus's own word for "licensed went away
 * without answering", which is what happens) saying why, then calls each
 * call's cancel function. For licensed's shutdown. */
void pending_calls_cancel_all(PendingCalls *set, const char *why);
