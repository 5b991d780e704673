/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>

#include "crypto.h"
#include "fileio.h"

int fsync_parent_dir(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        _cleanup_close_ int fd = -1;

        if (!copy)
                return -ENOMEM;
        fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

static int write_all(int fd, const void *data, size_t len) {
        const char *p = data;

        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                len -= (size_t) n;
        }
        return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode) {
        _cleanup_close_ int fd = -1;
        char tmp[4096];
        uint8_t rnd[6];
        int r;

        assert(path);
        assert(data || len == 0);

        r = random_bytes(rnd, sizeof(rnd));
        if (r < 0)
                return r;
        if (snprintf(tmp, sizeof(tmp), "%s.#%02x%02x%02x%02x%02x%02x", path, rnd[0], rnd[1], rnd[2], rnd[3],
                     rnd[4], rnd[5]) >= (int) sizeof(tmp))
                return -ENAMETOOLONG;

        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        /* open() honours the umask; the caller's mode is what it asked for. */
        if (fchmod(fd, mode) < 0)
                goto fail_errno;
        r = write_all(fd, data, len);
        if (r < 0)
                goto fail;
        if (fsync(fd) < 0)
                goto fail_errno;
        if (close(TAKE_FD(fd)) < 0) {
                r = -errno;
                unlink(tmp);
                return r;
        }
        if (rename(tmp, path) < 0)
                goto fail_errno;
        return fsync_parent_dir(path);

fail_errno:
        r = -errno;
fail:
        unlink(tmp);
        return r;
}

int read_stream(FILE *f, size_t max_size, char **ret, size_t *ret_len) {
        _cleanup_free_ char *buf = NULL;
        size_t len = 0, cap = 0;

        assert(f);
        assert(ret);

        for (;;) {
                if (len + 4096 + 1 > cap) {
                        size_t ncap = cap ? cap * 2 : 8192;
                        char *n;
                        if (ncap > max_size + 4096 + 2)
                                ncap = max_size + 4096 + 2;
                        n = realloc(buf, ncap);
                        if (!n)
                                return -ENOMEM;
                        buf = n;
                        cap = ncap;
                }
                size_t k = fread(buf + len, 1, cap - len - 1, f);
                len += k;
                if (len > max_size)
                        return -EFBIG;
                if (k == 0) {
                        if (ferror(f))
                                return -EIO;
                        break;
                }
        }
        buf[len] = 0;
        *ret = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int read_file(const char *path, size_t max_size, char **ret, size_t *ret_len) {
        _cleanup_fclose_ FILE *f = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        int flags;

        assert(path);
        /* Opening a FIFO that no one writes to waits for a writer forever
         * (one left in the state directory hung licensed's start): opened
         * without waiting, it reads as empty; a pipe with a writer, such as
         * <(command), reads as before, blocking once open. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return -errno;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && (size_t) st.st_size > max_size)
                return -EFBIG;
        flags = fcntl(fd, F_GETFL);
        if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0)
                return -errno;
        f = fdopen(fd, "r");
        if (!f)
                return -errno;
        TAKE_FD(fd);
        return read_stream(f, max_size, ret, ret_len);
}
