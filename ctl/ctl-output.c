/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* licensectl: tables, colours, the pager, JSON, times and documents. */

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "ctl-output.h"
#include "evaluate.h"
#include "fileio.h"
#include "timeutil.h"

/* ---- colours ---- */

static int colors = -1;

bool colors_enabled(void) {
        if (colors < 0) {
                const char *no_color = getenv("NO_COLOR"), *term = getenv("TERM");

                colors = isatty(STDOUT_FILENO) && !(no_color && *no_color) && !streq_ptr(term, "dumb");
        }
        return colors;
}

const char *ansi_highlight(void) {
        return colors_enabled() ? "\033[1m" : "";
}

const char *ansi_normal(void) {
        return colors_enabled() ? "\033[0m" : "";
}

/* The words licensed answers with: the reasons of CheckFeature (also the
 * status of a license), the outcomes of Validate and the State. */
typedef enum Tone {
        TONE_NONE,
        TONE_GOOD,
        TONE_WARN,
        TONE_BAD,
} Tone;

/* Tones for the words the daemon sends; their meanings come from core's
 * reason_to_description(), the one place that explains a reason. */
static const struct {
        const char *word;
        Tone tone;
} words[] = {
        {"licensed", TONE_GOOD},
        {"grace", TONE_WARN},
        {"not-installed", TONE_NONE},
        {"not-activated", TONE_BAD},
        {"expired", TONE_BAD},
        {"feature-expired", TONE_BAD},
        {"maintenance-expired", TONE_BAD},
        {"validation-required", TONE_BAD},
        {"revoked", TONE_BAD},
        {"clock-rollback", TONE_BAD},
        {"wrong-machine", TONE_BAD},
        {"limit-reached", TONE_BAD},
        {"no-lease", TONE_NONE},
        {"site-unreachable", TONE_BAD},
        {"floating-in-use", TONE_BAD},
        {"ok", TONE_GOOD},
        {"skipped", TONE_WARN},
        {"failed", TONE_BAD},
        {"trouble", TONE_BAD},
};

static ssize_t word_find(const char *word) {
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (streq(words[i].word, word))
                        return (ssize_t) i;
        return -1;
}

const char *reason_description(const char *reason) {
        return reason_to_description(reason_from_string(reason));
}

const char *status_color(const char *status) {
        static const char *const ansi[] = {
                [TONE_NONE] = "",
                [TONE_GOOD] = "\033[0;32m",
                [TONE_WARN] = "\033[0;33m",
                [TONE_BAD] = "\033[1;31m",
        };

        ssize_t i;

        if (!colors_enabled() || !status)
                return "";
        i = word_find(status);
        return i < 0 ? "" : ansi[words[i].tone];
}

/* ---- pager ---- */

static pid_t pager_pid = 0;

/* Whether the first word of command is an executable: in $PATH, or as a
 * path. */
static bool command_exists(const char *command) {
        _cleanup_free_ char *name = strndup(command, strcspn(command, " \t"));
        const char *path = getenv("PATH") ?: "/usr/bin:/bin";

        if (!name || !*name)
                return false;
        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        while (*path) {
                size_t n = strcspn(path, ":");
                _cleanup_free_ char *full = NULL;

                if (n > 0 && asprintf(&full, "%.*s/%s", (int) n, path, name) >= 0 && access(full, X_OK) == 0)
                        return true;
                path += n;
                if (*path == ':')
                        path++;
        }
        return false;
}

void pager_open(const Ctl *c) {
        const char *pager = getenv("PAGER");
        int fds[2];
        pid_t pid;

        if (!c->pager || pager_pid > 0 || !isatty(STDOUT_FILENO))
                return;
        if (pager && (!*pager || streq(pager, "cat")))
                return;
        if (!command_exists(pager ?: "less"))
                return;

        (void) colors_enabled(); /* decide while stdout is still the terminal */
        fflush(stdout);
        if (pipe2(fds, O_CLOEXEC) < 0)
                return;
        pid = fork();
        if (pid < 0) {
                close(fds[0]);
                close(fds[1]);
                return;
        }
        if (pid == 0) {
                if (dup2(fds[0], STDIN_FILENO) < 0)
                        _exit(EXIT_FAILURE);
                if (pager)
                        execl("/bin/sh", "sh", "-c", pager, (char *) NULL);
                else
                        execlp("less", "less", "-FRSX", (char *) NULL);
                _exit(127);
        }
        if (dup2(fds[1], STDOUT_FILENO) < 0) {
                /* Output keeps going to the terminal; let the pager see EOF. */
                close(fds[0]);
                close(fds[1]);
                (void) waitpid(pid, NULL, 0);
                return;
        }
        close(fds[0]);
        close(fds[1]);
        /* Quitting the pager early is not an error of ours. */
        (void) signal(SIGPIPE, SIG_IGN);
        pager_pid = pid;
}

void pager_close(void) {
        if (pager_pid <= 0)
                return;
        fflush(stdout);
        close(STDOUT_FILENO);
        while (waitpid(pager_pid, NULL, 0) < 0 && errno == EINTR)
                ;
        pager_pid = 0;
}

/* ---- times ---- */

static const char *format_relative(int64_t t, char buf[static 32]) {
        int64_t d = t - now_realtime(), a = d < 0 ? -d : d, n;
        const char *unit;

        if (a >= 2 * SEC_PER_DAY)
                /* Future days round up, as the daemon's "days left" does. */
                n = d > 0 ? days_left(0, a) : a / SEC_PER_DAY, unit = "days";
        else if (a >= 2 * SEC_PER_HOUR)
                n = a / SEC_PER_HOUR, unit = "hours";
        else if (a >= 2 * SEC_PER_MINUTE)
                n = a / SEC_PER_MINUTE, unit = "minutes";
        else
                return "now";
        if (d >= 0)
                snprintf(buf, 32, "in %lld %s", (long long) n, unit);
        else
                snprintf(buf, 32, "%lld %s ago", (long long) n, unit);
        return buf;
}

const char *format_timestamp(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset) {
        char rfc[RFC3339_MAX], rel[32];

        if (usec == 0)
                return unset;
        time_format_rfc3339(usec_to_sec(usec), rfc);
        if (strlen(rfc) == 20) { /* "2027-12-31T00:00:00Z" -> "2027-12-31 00:00:00 UTC" */
                rfc[10] = ' ';
                rfc[19] = 0;
        }
        snprintf(buf, CTL_TIME_MAX, "%s UTC (%s)", rfc, format_relative(usec_to_sec(usec), rel));
        return buf;
}

const char *format_date(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset) {
        char rfc[RFC3339_MAX];

        if (usec == 0)
                return unset;
        time_format_rfc3339(usec_to_sec(usec), rfc);
        snprintf(buf, CTL_TIME_MAX, "%.10s", rfc);
        return buf;
}

const char *format_duration(uint64_t usec, char buf[static CTL_TIME_MAX], const char *unset) {
        if (usec == 0)
                return unset;
        return duration_format(usec_to_sec(usec), buf);
}

json_object *json_timestamp(uint64_t usec) {
        char rfc[RFC3339_MAX];

        if (usec == 0)
                return NULL;
        return json_object_new_string(time_format_rfc3339(usec_to_sec(usec), rfc));
}

json_object *json_string_or_null(const char *s) {
        return s ? json_object_new_string(s) : NULL;
}

json_object *json_for_id(const Ctl *c, const char *id) {
        json_object *o;

        if (!c->json || !(o = json_object_new_object()))
                return NULL;
        json_object_object_add(o, "id", json_object_new_string(id));
        return o;
}

int json_print(json_object *o) {
        if (!o)
                return ctl_oom();
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
        return 0;
}

/* ---- fields ---- */

void print_field(int width, const char *label, const char *color, const char *fmt, ...) {
        va_list ap;

        if (label)
                printf("%*s: ", width, label);
        else
                printf("%*s", width + 2, "");
        fputs(color ?: "", stdout);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("%s\n", color && *color ? ansi_normal() : "");
}

/* ---- documents ---- */

int ctl_write_document(const Ctl *c, const char *text, const char *what, bool secret) {
        _cleanup_free_ char *with_newline = NULL;
        size_t len = strlen(text);
        int r, status = 0;

        /* A document ends with a line break, whatever the daemon sent. */
        if (len == 0 || text[len - 1] != '\n') {
                if (asprintf(&with_newline, "%s\n", text) < 0)
                        return ctl_oom();
                text = with_newline;
                len++;
        }

        if (c->output && !streq(c->output, "-")) {
                mode_t mask = umask(0);

                umask(mask);
                r = write_file_atomic(c->output, text, len, secret ? 0600 : 0666 & ~mask);
                if (r >= 0) {
                        /* With --json, stdout is the JSON's. */
                        fprintf(c->json ? stderr : stdout, "Wrote the %s to %s.\n", what, c->output);
                        return 0;
                }
                if (c->json) /* the JSON on stdout carries the document */
                        return report_error(CTL_EXIT_FAILURE, "cannot write %s: %s.", c->output,
                                            strerror(-r));
                status = report_error(CTL_EXIT_FAILURE,
                                      "cannot write %s: %s. Here is the %s; keep it:", c->output,
                                      strerror(-r), what);
        }

        fputs(text, stdout);
        if (fflush(stdout) != 0 || ferror(stdout))
                return report_error(CTL_EXIT_FAILURE, "cannot write to standard output: %m");
        return status;
}

int ctl_emit_document(const Ctl *c, json_object *o, const char *json_key, const char *text, const char *what,
                      bool secret) {
        int r = 0;

        if (*text && (!c->json || (c->output && !streq(c->output, "-"))))
                r = ctl_write_document(c, text, what, secret);
        if (!c->json)
                return r;
        if (!o)
                return ctl_oom();
        json_object_object_add(o, json_key, *text ? json_object_new_string(text) : NULL);
        return json_print(o) ?: r;
}
