/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <limits.h>
#include <time.h>

#include "timeutil.h"

static bool parse_digits(const char *s, size_t n, int *ret) {
        int v = 0;
        for (size_t i = 0; i < n; i++) {
                if (!isdigit((unsigned char) s[i]))
                        return false;
                v = v * 10 + (s[i] - '0');
        }
        *ret = v;
        return true;
}

static bool is_leap(int y) {
        return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int time_parse_rfc3339(const char *s, int64_t *ret, CoreError *err) {
        static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int y, mo, d, h = 0, mi = 0, sec = 0;
        size_t len;

        assert(s);
        assert(ret);

        len = strlen(s);
        if (len != 10 && len != 20)
                goto invalid;
        if (!parse_digits(s, 4, &y) || s[4] != '-' || !parse_digits(s + 5, 2, &mo) || s[7] != '-' ||
            !parse_digits(s + 8, 2, &d))
                goto invalid;
        if (len == 20) {
                if (s[10] != 'T' || !parse_digits(s + 11, 2, &h) || s[13] != ':' ||
                    !parse_digits(s + 14, 2, &mi) || s[16] != ':' || !parse_digits(s + 17, 2, &sec) ||
                    s[19] != 'Z')
                        goto invalid;
        }
        if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || sec > 59)
                goto invalid;
        if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
                goto invalid;

        /* Days since the epoch without going through the C library's time
         * zone machinery (timegm is a GNU extension anyway). */
        int64_t days = 0;
        for (int yy = 1970; yy < y; yy++)
                days += is_leap(yy) ? 366 : 365;
        for (int m = 1; m < mo; m++)
                days += mdays[m - 1] + (m == 2 && is_leap(y));
        days += d - 1;

        *ret = days * SEC_PER_DAY + h * SEC_PER_HOUR + mi * SEC_PER_MINUTE + sec;
        return 0;

invalid:
        return core_error_set(err, EINVAL, "'%.40s' is not a UTC time like 2026-11-22T10:00:00Z or 2026-11-22",
                              s);
}

char *time_format_rfc3339(int64_t t, char buf[static RFC3339_MAX]) {
        struct tm tm;
        time_t tt = (time_t) t;

        if (!gmtime_r(&tt, &tm)) {
                snprintf(buf, RFC3339_MAX, "@%lld", (long long) t);
                return buf;
        }
        strftime(buf, RFC3339_MAX, "%Y-%m-%dT%H:%M:%SZ", &tm);
        return buf;
}

int duration_parse(const char *s, int64_t *ret, CoreError *err) {
        char *end;
        long long v;
        int64_t mult = 1;

        assert(s);
        assert(ret);

        if (!isdigit((unsigned char) s[0]))
                goto invalid;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || v < 0)
                goto invalid;
        if (*end) {
                switch (*end) {
                case 's': mult = 1; break;
                case 'm': mult = SEC_PER_MINUTE; break;
                case 'h': mult = SEC_PER_HOUR; break;
                case 'd': mult = SEC_PER_DAY; break;
                case 'w': mult = 7 * SEC_PER_DAY; break;
                default: goto invalid;
                }
                if (end[1])
                        goto invalid;
        }
        if (v > INT64_MAX / mult / 4) /* keep sums with timestamps far from overflow */
                goto invalid;
        *ret = (int64_t) v * mult;
        return 0;

invalid:
        return core_error_set(err, EINVAL, "'%.40s' is not a duration like 14d, 12h, 30m or 3600", s);
}

char *duration_format(int64_t d, char buf[static 32]) {
        if (d != 0 && d % (7 * SEC_PER_DAY) == 0)
                snprintf(buf, 32, "%lldw", (long long) (d / (7 * SEC_PER_DAY)));
        else if (d != 0 && d % SEC_PER_DAY == 0)
                snprintf(buf, 32, "%lldd", (long long) (d / SEC_PER_DAY));
        else if (d != 0 && d % SEC_PER_HOUR == 0)
                snprintf(buf, 32, "%lldh", (long long) (d / SEC_PER_HOUR));
        else if (d != 0 && d % SEC_PER_MINUTE == 0)
                snprintf(buf, 32, "%lldm", (long long) (d / SEC_PER_MINUTE));
        else
                snprintf(buf, 32, "%llds", (long long) d);
        return buf;
}

int64_t days_left(int64_t now, int64_t end) {
        if (end <= now)
                return 0;
        return (end - now + SEC_PER_DAY - 1) / SEC_PER_DAY;
}

int64_t now_realtime(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec;
}
