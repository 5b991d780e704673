/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* org.licensed.License1.Error.*: every name a client may see, documented in
 * docs/dbus-api.md. */

#define BUS_ERROR_PREFIX "org.licensed.License1.Error."
#define BUS_ERROR_NO_SUCH_LICENSE BUS_ERROR_PREFIX "NoSuchLicense"
#define BUS_ERROR_NO_SUCH_PRODUCT BUS_ERROR_PREFIX "NoSuchProduct"
#define BUS_ERROR_INVALID_KEY BUS_ERROR_PREFIX "InvalidKey"
#define BUS_ERROR_INVALID_LICENSE BUS_ERROR_PREFIX "InvalidLicense"
#define BUS_ERROR_BAD_SIGNATURE BUS_ERROR_PREFIX "BadSignature"
#define BUS_ERROR_UNTRUSTED_KEY BUS_ERROR_PREFIX "UntrustedKey"
#define BUS_ERROR_WRONG_MACHINE BUS_ERROR_PREFIX "WrongMachine"
#define BUS_ERROR_NOT_BOUND BUS_ERROR_PREFIX "NotBound"
#define BUS_ERROR_NONCE_MISMATCH BUS_ERROR_PREFIX "NonceMismatch"
#define BUS_ERROR_STALE_REVISION BUS_ERROR_PREFIX "StaleRevision"
#define BUS_ERROR_NOT_SUPPORTED BUS_ERROR_PREFIX "NotSupported"
#define BUS_ERROR_STORAGE_FAILURE BUS_ERROR_PREFIX "StorageFailure"
#define BUS_ERROR_NO_SEAT BUS_ERROR_PREFIX "NoSeat"
#define BUS_ERROR_EXITING BUS_ERROR_PREFIX "Exiting"
#define BUS_ERROR_SERVER_UNREACHABLE BUS_ERROR_PREFIX "ServerUnreachable"
#define BUS_ERROR_SERVER_REFUSED BUS_ERROR_PREFIX "ServerRefused"
#define BUS_ERROR_BAD_SERVER_RESPONSE BUS_ERROR_PREFIX "BadServerResponse"
