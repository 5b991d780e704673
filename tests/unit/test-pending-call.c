/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* daemon/pending-call: every call is answered exactly once, whether it is
 * ended, cancelled or freed unended, and the set counts what is in flight.
 * A client and a server bus talk over a socketpair, so the answers are real
 * D-Bus replies read back by the caller. */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "pending-call.h"

#define WAIT_USEC (5 * 1000000ULL) /* no step takes anywhere near this */

typedef struct Answer {
        bool received;
        unsigned count; /* replies seen for this call: must stay 1 */
        char *error_name;
        char *error_message;
        char *value; /* the "s" of a method return, if any */
} Answer;

typedef struct Fixture {
        sd_event *event;
        sd_bus *server, *client;
        sd_bus_message *incoming[4]; /* method calls as the server got them */
        size_t n_incoming;
        Answer answers[4];
        size_t n_sent;
        PendingCalls set;
        unsigned drained;
} Fixture;

static void on_drained(void *userdata) {
        Fixture *f = userdata;

        f->drained++;
}

static int on_server_message(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Fixture *f = userdata;

        if (!sd_bus_message_is_method_call(m, NULL, NULL))
                return 0;
        assert_true(f->n_incoming < ELEMENTSOF(f->incoming));
        f->incoming[f->n_incoming++] = sd_bus_message_ref(m);
        return 1; /* ours: no automatic reply */
}

static int on_reply(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        Answer *a = userdata;
        const sd_bus_error *e = sd_bus_message_get_error(m);
        const char *s;

        a->received = true;
        a->count++;
        if (e) {
                a->error_name = strdup(e->name);
                a->error_message = strdup(e->message ?: "");
        } else if (sd_bus_message_read(m, "s", &s) > 0)
                a->value = strdup(s);
        return 0;
}

/* Runs the loop until cond(f) or the deadline; fails on the latter. */
static void run_until(Fixture *f, bool (*cond)(Fixture *f)) {
        uint64_t start, now;

        assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &start) >= 0);
        while (!cond(f)) {
                assert_true(sd_event_run(f->event, 100000) >= 0);
                assert_true(sd_event_now(f->event, CLOCK_MONOTONIC, &now) >= 0);
                assert_true(now - start < WAIT_USEC);
        }
}

/* Lets whatever is in flight arrive: for "nothing more came". */
static void run_a_while(Fixture *f) {
        for (int i = 0; i < 20; i++)
                assert_true(sd_event_run(f->event, 5000) >= 0);
}

static bool all_incoming(Fixture *f) {
        return f->n_incoming == f->n_sent;
}

static bool all_answered(Fixture *f) {
        for (size_t i = 0; i < f->n_sent; i++)
                if (!f->answers[i].received)
                        return false;
        return true;
}

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof(*f));
        sd_id128_t id;
        int fds[2];

        assert_non_null(f);
        assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        assert_int_equal(sd_id128_randomize(&id), 0);
        assert_int_equal(sd_event_new(&f->event), 0);

        assert_int_equal(sd_bus_new(&f->server), 0);
        assert_int_equal(sd_bus_set_fd(f->server, fds[0], fds[0]), 0);
        assert_int_equal(sd_bus_set_server(f->server, 1, id), 0);
        assert_int_equal(sd_bus_add_filter(f->server, NULL, on_server_message, f), 0);
        assert_int_equal(sd_bus_start(f->server), 0);
        assert_int_equal(sd_bus_attach_event(f->server, f->event, 0), 0);

        assert_int_equal(sd_bus_new(&f->client), 0);
        assert_int_equal(sd_bus_set_fd(f->client, fds[1], fds[1]), 0);
        assert_int_equal(sd_bus_start(f->client), 0);
        assert_int_equal(sd_bus_attach_event(f->client, f->event, 0), 0);

        f->set = (PendingCalls) {.drained = on_drained, .userdata = f};
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;

        for (size_t i = 0; i < f->n_incoming; i++)
                sd_bus_message_unref(f->incoming[i]);
        for (size_t i = 0; i < ELEMENTSOF(f->answers); i++) {
                free(f->answers[i].error_name);
                free(f->answers[i].error_message);
                free(f->answers[i].value);
        }
        sd_bus_flush_close_unref(f->client);
        sd_bus_flush_close_unref(f->server);
        sd_event_unref(f->event);
        free(f);
        return 0;
}

/* Sends n method calls from the client and waits until the server has them. */
static void call(Fixture *f, size_t n) {
        for (size_t i = 0; i < n; i++) {
                assert_true(f->n_sent < ELEMENTSOF(f->answers));
                assert_true(sd_bus_call_method_async(f->client, NULL, NULL, "/org/licensed/test", "org.licensed.Test",
                                                     "Activate", on_reply, &f->answers[f->n_sent], "") >= 0);
                f->n_sent++;
        }
        run_until(f, all_incoming);
}

static void test_return_ends_it(void **state) {
        Fixture *f = *state;
        PendingCall *pc;

        call(f, 1);
        assert_int_equal(pending_call_new(&f->set, f->incoming[0], &pc), 0);
        assert_int_equal(pending_calls_count(&f->set), 1);
        assert_ptr_equal(pending_call_message(pc), f->incoming[0]);
        assert_false(pending_call_is_answered(pc));

        assert_true(pending_call_return(pc, "s", "done") >= 0);
        assert_true(pending_call_is_answered(pc));
        assert_int_equal(pending_calls_count(&f->set), 0);
        assert_int_equal(f->drained, 1);
        pending_call_free(pc); /* ended: frees without a second answer */

        run_until(f, all_answered);
        run_a_while(f);
        assert_int_equal(f->answers[0].count, 1);
        assert_null(f->answers[0].error_name);
        assert_string_equal(f->answers[0].value, "done");
        assert_int_equal(f->drained, 1);
}

static void test_errors(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        PendingCall *pc[3];

        call(f, 3);
        for (size_t i = 0; i < 3; i++)
                assert_int_equal(pending_call_new(&f->set, f->incoming[i], &pc[i]), 0);
        assert_int_equal(pending_calls_count(&f->set), 3);

        /* Out of order, so the middle of the set is taken out too. */
        assert_true(pending_call_errorf(pc[1], "org.licensed.License1.Error.ServerRefused", "no %d", 7) >= 0);
        assert_int_equal(pending_calls_count(&f->set), 2);
        assert_true(pending_call_errno(pc[0], -ENOMEM) >= 0);
        assert_int_equal(pending_calls_count(&f->set), 1);
        assert_int_equal(f->drained, 0);
        sd_bus_error_set_const(&e, "org.licensed.License1.Error.BadServerResponse", "not JSON");
        assert_true(pending_call_error(pc[2], &e) >= 0);
        assert_int_equal(pending_calls_count(&f->set), 0);
        assert_int_equal(f->drained, 1);
        for (size_t i = 0; i < 3; i++)
                pending_call_free(pc[i]);

        run_until(f, all_answered);
        assert_string_equal(f->answers[0].error_name, SD_BUS_ERROR_NO_MEMORY);
        assert_string_equal(f->answers[1].error_name, "org.licensed.License1.Error.ServerRefused");
        assert_string_equal(f->answers[1].error_message, "no 7");
        assert_string_equal(f->answers[2].error_name, "org.licensed.License1.Error.BadServerResponse");
}

static void test_send_prepared_reply(void **state) {
        Fixture *f = *state;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        PendingCall *pc;

        call(f, 1);
        assert_int_equal(pending_call_new(&f->set, f->incoming[0], &pc), 0);
        assert_true(sd_bus_message_new_method_return(pending_call_message(pc), &reply) >= 0);
        assert_true(sd_bus_message_append(reply, "s", "built") >= 0);
        assert_true(pending_call_send(pc, reply) >= 0);
        assert_int_equal(pending_calls_count(&f->set), 0);
        pending_call_free(pc);
        run_until(f, all_answered);
        assert_string_equal(f->answers[0].value, "built");
}

static void test_ended_twice_is_a_bug(void **state) {
        Fixture *f = *state;
        PendingCall *pc;
        pid_t pid;
        int status;

#ifdef NDEBUG
        skip();
#endif
        call(f, 1);
        assert_int_equal(pending_call_new(&f->set, f->incoming[0], &pc), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                /* No core file for an abort we asked for; cmocka's own
                 * handler would turn it into a longjmp. */
                (void) setrlimit(RLIMIT_CORE, &(struct rlimit) {});
                signal(SIGABRT, SIG_DFL);
                /* (sd-bus sends nothing from a forked child: the parent's
                 * answer below is the only one.) */
                (void) pending_call_return(pc, "s", "once");
                (void) pending_call_errno(pc, -EIO); /* must abort here */
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGABRT);

        /* The parent's copy was never ended: its one answer is still due. */
        assert_true(pending_call_return(pc, "s", "parent") >= 0);
        pending_call_free(pc);
        run_until(f, all_answered);
        run_a_while(f);
        assert_int_equal(f->answers[0].count, 1);
        assert_string_equal(f->answers[0].value, "parent");
}

static void test_cleanup_answers_unended(void **state) {
        Fixture *f = *state;

        call(f, 1);
        {
                _cleanup_(pending_call_freep) PendingCall *pc = NULL;

                assert_int_equal(pending_call_new(&f->set, f->incoming[0], &pc), 0);
                assert_int_equal(pending_calls_count(&f->set), 1);
                /* an early return that forgot to answer */
        }
        assert_int_equal(pending_calls_count(&f->set), 0);
        assert_int_equal(f->drained, 1);
        run_until(f, all_answered);
        run_a_while(f);
        assert_int_equal(f->answers[0].count, 1);
        assert_string_equal(f->answers[0].error_name, SD_BUS_ERROR_FAILED);
        assert_non_null(strstr(f->answers[0].error_message, "could not finish the Activate call"));
}

typedef struct Owner {
        PendingCall *call;
        unsigned cancelled;
} Owner;

static void owner_cancel(void *userdata) {
        Owner *o = userdata;

        o->cancelled++;
        o->call = pending_call_free(o->call);
}

static void test_cancel_all(void **state) {
        Fixture *f = *state;
        Owner owned = {};
        PendingCall *kept;

        call(f, 2);
        assert_int_equal(pending_call_new(&f->set, f->incoming[0], &owned.call), 0);
        pending_call_set_cancel(owned.call, owner_cancel, &owned);
        assert_int_equal(pending_call_new(&f->set, f->incoming[1], &kept), 0); /* no cancel function */
        assert_int_equal(pending_calls_count(&f->set), 2);

        pending_calls_cancel_all(&f->set, "shutting down");
        assert_int_equal(pending_calls_count(&f->set), 0);
        assert_int_equal(f->drained, 0); /* teardown, not an idle moment */
        assert_int_equal(owned.cancelled, 1);
        assert_null(owned.call);
        assert_true(pending_call_is_answered(kept));

        /* The owner without a cancel function ends it later: nothing happens. */
        assert_int_equal(pending_call_return(kept, "s", "late"), 0);
        assert_int_equal(pending_call_errno(kept, -EIO), 0);
        assert_int_equal(pending_calls_count(&f->set), 0);
        assert_int_equal(f->drained, 0);
        pending_call_free(kept);

        run_until(f, all_answered);
        run_a_while(f);
        for (size_t i = 0; i < 2; i++) {
                assert_int_equal(f->answers[i].count, 1);
                assert_string_equal(f->answers[i].error_name, SD_BUS_ERROR_NO_REPLY);
                assert_string_equal(f->answers[i].error_message, "shutting down");
        }
        pending_calls_cancel_all(&f->set, "again"); /* empty: nothing */
}

typedef struct Continuation {
        Fixture *f;
        unsigned count_inside;
        PendingCall *next;
} Continuation;

/* What an authorized call does: go on to its server, as a call of its own. */
static int continue_call(sd_bus_message *m, void *userdata) {
        Continuation *k = userdata;

        k->count_inside = pending_calls_count(&k->f->set);
        return pending_call_new(&k->f->set, m, &k->next);
}

static void test_pass_on(void **state) {
        Fixture *f = *state;
        Continuation k = {.f = f};
        PendingCall *pc;

        call(f, 1);
        assert_int_equal(pending_call_new(&f->set, f->incoming[0], &pc), 0);
        assert_int_equal(pending_call_pass_on(pc, continue_call, &k), 0);
        /* The count never touched zero on the way: no idle exit in between. */
        assert_int_equal(k.count_inside, 1);
        assert_int_equal(f->drained, 0);
        assert_int_equal(pending_calls_count(&f->set), 1);
        assert_true(pending_call_is_answered(pc));
        pending_call_free(pc);

        run_a_while(f);
        assert_false(f->answers[0].received); /* handed on, not answered */
        assert_true(pending_call_return(k.next, "s", "from the server") >= 0);
        assert_int_equal(f->drained, 1);
        pending_call_free(k.next);
        run_until(f, all_answered);
        run_a_while(f);
        assert_int_equal(f->answers[0].count, 1);
        assert_string_equal(f->answers[0].value, "from the server");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_return_ends_it, setup, teardown),
                cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
                cmocka_unit_test_setup_teardown(test_send_prepared_reply, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ended_twice_is_a_bug, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cleanup_answers_unended, setup, teardown),
                cmocka_unit_test_setup_teardown(test_cancel_all, setup, teardown),
                cmocka_unit_test_setup_teardown(test_pass_on, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
