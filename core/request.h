/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The documents that cross the air gap besides licenses (docs/offline.md):
 *
 *   ACTIVATION REQUEST   machine -> vendor   signed by the device key
 *   VALIDATION REQUEST   machine -> vendor   signed by the device key
 *   DEACTIVATION PROOF   machine -> vendor   signed by the device key
 *   TRIAL REQUEST        machine -> vendor   signed by the device key
 *   VALIDATION RECEIPT   vendor -> machine   signed by a product trust key
 *
 * They use the same armor as licenses and "name: value" bodies. A machine
 * document carries the device public key it is signed with: verifying it
 * proves possession of that key (the key id header must match it). Each
 * carries a nonce so an answer can be tied to the one request it answers,
 * and a newer request invalidates an older one. */

#include <stdbool.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"
#include "license.h"
#include "product.h"

typedef enum MachineRequestType {
        MACHINE_REQUEST_ACTIVATION,
        MACHINE_REQUEST_VALIDATION,
        MACHINE_REQUEST_DEACTIVATION,
        MACHINE_REQUEST_TRIAL, /* a trial of the product for this machine, without a key */
        _MACHINE_REQUEST_TYPE_MAX,
        _MACHINE_REQUEST_TYPE_INVALID = -1,
} MachineRequestType;

typedef struct MachineRequest {
        MachineRequestType type;
        char *product;      /* all types */
        char *key;          /* activation: the full license key, canonical form */
        char *license_id;   /* validation, deactivation */
        uint32_t revision;  /* validation, deactivation: the installed revision */
        char *machine_id;   /* MACHINE_ID_HEX_LEN hex digits, all types */
        char *device_key;   /* base64 Ed25519 public key, all types */
        char *nonce;        /* LICENSE_NONCE_HEX_LEN hex digits, all types */
        int64_t created;    /* all types */
        char *hostname;     /* optional, informational only */
        char *hardware_id;  /* trial, optional: MACHINE_REQUEST_HARDWARE_ID_HEX_LEN hex digits derived from
                             * the firmware's system UUID, which outlives a reinstall (docs/protocol.md) */
} MachineRequest;

#define MACHINE_REQUEST_INIT {.type = _MACHINE_REQUEST_TYPE_INVALID}

#define MACHINE_REQUEST_HARDWARE_ID_HEX_LEN 32

/* Longest hostname a request may carry. */
#define MACHINE_REQUEST_HOSTNAME_MAX 255

/* The body's "type:" value: "activation", "validation", "deactivation". */
const char *machine_request_type_to_string(MachineRequestType t);
MachineRequestType machine_request_type_from_string(const char *s);

/* Armor kind for a type: "ACTIVATION REQUEST", ... */
const char *machine_request_kind(MachineRequestType t);
/* The type of an armor kind; _MACHINE_REQUEST_TYPE_INVALID for a kind that
 * is not a machine document (a LICENSE, a VALIDATION RECEIPT). */
MachineRequestType machine_request_type_from_kind(const char *kind);
/* The type in a sentence: "activation request", ... */
const char *machine_request_noun(MachineRequestType t);

void machine_request_done(MachineRequest *r);

/* Checks the fields for the type, formats the body, signs it with
 * device_key (whose public half must equal r->device_key). */
int machine_request_sign(const MachineRequest *r, EVP_PKEY *device_key, char **ret);

/* Decodes any of the three machine documents (or only expected_type if it is
 * not _MACHINE_REQUEST_TYPE_INVALID), verifies the signature against the
 * device key inside and the Key-Id against that key, and parses strictly.
 * Errors come with a sentence: -EBADMSG for a malformed document (wrong
 * kind, bad or missing fields, armor and body types that disagree),
 * -EPROTONOSUPPORT for a newer format version, -ENOKEY if the Key-Id is not
 * that of the device key inside, -EKEYREJECTED (as from armor_verify) if
 * the signature does not match. */
int machine_request_verify(const char *text, size_t len, MachineRequestType expected_type, MachineRequest *ret,
                           CoreError *err);

typedef enum ReceiptStatus {
        RECEIPT_VALID,
        RECEIPT_REVOKED,
        _RECEIPT_STATUS_MAX,
        _RECEIPT_STATUS_INVALID = -1,
} ReceiptStatus;

typedef struct ValidationReceipt {
        char *license_id;
        char *product;
        char *machine_id;
        char *nonce;       /* the nonce of the VALIDATION REQUEST it answers */
        int64_t validated; /* when the vendor validated it */
        ReceiptStatus status;
} ValidationReceipt;

#define VALIDATION_RECEIPT_INIT {.status = _RECEIPT_STATUS_INVALID}

const char *receipt_status_to_string(ReceiptStatus s);
ReceiptStatus receipt_status_from_string(const char *s);
void validation_receipt_done(ValidationReceipt *r);

/* Signs with a vendor key. */
int validation_receipt_sign(const ValidationReceipt *r, EVP_PKEY *vendor_key, char **ret);

/* Verifies with the given key, then parses. */
int validation_receipt_verify_with_key(const char *text, size_t len, EVP_PKEY *key, ValidationReceipt *ret,
                                       CoreError *err);

/* Finds the trust key by the Key-Id, verifies, parses, and checks that the
 * product it names trusts that key (as license_verify_with_products does). */
int validation_receipt_verify_with_products(const char *text, size_t len, const ProductSet *products,
                                            ValidationReceipt *ret, CoreError *err);

/* 16 random bytes as 32 lower-case hex digits plus NUL. */
int nonce_generate(char out[static LICENSE_NONCE_STRING_SIZE]);
