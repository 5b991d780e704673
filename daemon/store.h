/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The state directory, and nothing else touches it. Layout (docs/state.md):
 *
 *   device.key                  this machine's Ed25519 key, 0600
 *   clock                       the time high-water mark
 *   verified.cache              digests of the licenses verified before (core/verified-cache.h)
 *   licenses.image              the start image (core/start-image.h, daemon/start-image.c)
 *   licenses/ID.lic             a license exactly as installed (armored)
 *   licenses/ID.state           what this machine knows about it
 *   pending/PRODUCT.activation  nonce of the latest offline activation request
 *   deactivated/ID.proof        deactivation proofs, kept for the administrator
 *   quarantine/                 damaged files moved aside, never deleted
 *
 * Every write is write_file_atomic(). A license is committed when its .lic
 * file is renamed into place, after its .state; a .lic without .state is
 * complete (installed at its mtime, never validated); a .state without .lic
 * is a leftover of a removal or a failed install and is deleted. */

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "license.h"
#include "license-state.h"
#include "start-image.h"
#include "verified-cache.h"

void license_state_done(LicenseState *st);

typedef struct Store {
        char *dir;
        /* Told before every change to licenses/ (a .lic or .state written,
         * removed or quarantined): the start image is then out of date. */
        void (*changed)(void *userdata);
        void *changed_userdata;
} Store;

#define START_IMAGE_FILE "licenses.image"

int store_open(Store *s, const char *dir);
void store_done(Store *s);

/* Path of a file in the store, malloc'd. */
char *store_path(const Store *s, const char *subdir, const char *name, const char *suffix);

/* Calls found() for each committed license, with its armored text and its
 * state (which found() copies: it is freed after the call). Damaged
 * state files are quarantined (reported through damaged()) and replaced by
 * defaults; orphan state files are removed. */
typedef void (*StoreLicenseFunc)(const char *id, const char *text, size_t len, const LicenseState *st,
                                 void *userdata);
typedef void (*StoreDamagedFunc)(const char *path, const char *why, const char *moved_to, void *userdata);
int store_load_licenses(Store *s, StoreLicenseFunc found, StoreDamagedFunc damaged, void *userdata);
/* The same for one entry of licenses/ (opened with store_open_licenses()):
 * a NAME.lic is loaded, anything else tidied or skipped. */
int store_open_licenses(Store *s, DIR **ret);
int store_load_license_at(Store *s, int dir_fd, const char *name, StoreLicenseFunc found,
                          StoreDamagedFunc damaged, void *userdata);
/* A license file's bytes, as the loader reads them. */
int store_read_license_at(int dir_fd, const char *name, char **ret, size_t *ret_len);
/* licenses/'s st_dev, st_ino, mtime and ctime: every file created, renamed
 * or removed in it changes them (the daemon writes every file by rename). */
int store_licenses_identity(Store *s, StartImageSource *ret);

/* Commits the state, then the license text. */
int store_save_license(Store *s, const char *id, const char *text, const LicenseState *st);
int store_save_state(Store *s, const char *id, const LicenseState *st);
/* Removes the license, then its state. */
int store_remove_license(Store *s, const char *id);

/* Moves a file into quarantine/; returns the new path in *ret_moved. */
int store_quarantine(Store *s, const char *path, char **ret_moved);

int store_save_pending(Store *s, const char *product, const char *nonce);
/* -ENOENT if none, -EBADMSG if damaged. */
int store_load_pending(Store *s, const char *product, char out[static LICENSE_NONCE_STRING_SIZE]);
int store_remove_pending(Store *s, const char *product);

int store_save_proof(Store *s, const char *id, const char *proof);

/* The time high-water mark, with the boot it was seen in and the
 * CLOCK_BOOTTIME then, so the same boot can tell how much real time passed
 * whatever the wall clock says. */
typedef struct ClockMark {
        int64_t high_water; /* wall clock, seconds */
        char boot_id[MACHINE_ID_HEX_LEN + 1]; /* a 128-bit id like the machine id; "" if unknown */
        int64_t boottime;   /* CLOCK_BOOTTIME seconds at high_water */
} ClockMark;

int store_save_clock(Store *s, const ClockMark *m);
/* -ENOENT if none, -EBADMSG if damaged. */
int store_load_clock(Store *s, ClockMark *ret);

/* The verified-license cache. -ENOENT if none; -EBADMSG if damaged or from
 * another version; -EPERM if it is not a regular file of ours that only we
 * can write. Any error means: verify everything, and write a new one. */
int store_load_verified(Store *s, VerifiedCache *ret);
int store_save_verified(Store *s, const VerifiedCache *c);

/* The start image's bytes, with the same ownership rule and errors as
 * verified.cache (not parsed here). */
int store_load_image(Store *s, char **ret, size_t *ret_size);
int store_save_image(Store *s, const void *data, size_t size);
int store_remove_image(Store *s);
