/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <stddef.h>

#include "armor.h"
#include "fields.h"
#include "license.h"
#include "request.h"
#include "string-table.h"
#include "text-check.h"
#include "timeutil.h"

#define DOCUMENT_FORMAT_VERSION "1"
#define RECEIPT_KIND "VALIDATION RECEIPT"

#define BIT(i) (UINT32_C(1) << (i))

/* The body's "type:" value. */
static const char *const machine_request_type_table[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = "activation",
        [MACHINE_REQUEST_VALIDATION] = "validation",
        [MACHINE_REQUEST_DEACTIVATION] = "deactivation",
        [MACHINE_REQUEST_TRIAL] = "trial",
};

static const struct {
        const char *kind; /* the armor kind */
        const char *noun; /* for sentences */
} request_types[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = {"ACTIVATION REQUEST", "activation request"},
        [MACHINE_REQUEST_VALIDATION] = {"VALIDATION REQUEST", "validation request"},
        [MACHINE_REQUEST_DEACTIVATION] = {"DEACTIVATION PROOF", "deactivation proof"},
        [MACHINE_REQUEST_TRIAL] = {"TRIAL REQUEST", "trial request"},
};

static const char *const receipt_status_table[_RECEIPT_STATUS_MAX] = {
        [RECEIPT_VALID] = "valid",
        [RECEIPT_REVOKED] = "revoked",
};

DEFINE_STRING_TABLE_LOOKUP(machine_request_type, MachineRequestType);

const char *machine_request_kind(MachineRequestType t) {
        if (t < 0 || t >= _MACHINE_REQUEST_TYPE_MAX)
                return NULL;
        return request_types[t].kind;
}

const char *machine_request_noun(MachineRequestType t) {
        if (t < 0 || t >= _MACHINE_REQUEST_TYPE_MAX)
                return NULL;
        return request_types[t].noun;
}

MachineRequestType machine_request_type_from_kind(const char *kind) {
        for (int i = 0; i < _MACHINE_REQUEST_TYPE_MAX; i++)
                if (streq(kind, request_types[i].kind))
                        return (MachineRequestType) i;
        return _MACHINE_REQUEST_TYPE_INVALID;
}

DEFINE_STRING_TABLE_LOOKUP(receipt_status, ReceiptStatus);

void machine_request_done(MachineRequest *r) {
        if (!r)
                return;
        free(r->product);
        free(r->key);
        free(r->license_id);
        free(r->machine_id);
        free(r->device_key);
        free(r->nonce);
        free(r->hostname);
        free(r->hardware_id);
        *r = (MachineRequest) MACHINE_REQUEST_INIT;
}

void validation_receipt_done(ValidationReceipt *r) {
        if (!r)
                return;
        free(r->license_id);
        free(r->product);
        free(r->machine_id);
        free(r->nonce);
        *r = (ValidationReceipt) VALIDATION_RECEIPT_INIT;
}

int nonce_generate(char out[static LICENSE_NONCE_STRING_SIZE]) {
        uint8_t b[16];
        int r;

        r = random_bytes(b, sizeof(b));
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* Both kinds of document are described by one table each (core/fields.h):
 * the order of the table is the order of the canonical body, and each entry
 * says which validator judges its value and where it is stored. Formatting
 * and parsing walk the same table, so they cannot disagree. */

_Static_assert(sizeof(MachineRequestType) == sizeof(int) && sizeof(ReceiptStatus) == sizeof(int),
               "the enum members are read and written as int");

enum {
        RQ_FORMAT, RQ_TYPE, RQ_PRODUCT, RQ_KEY, RQ_LICENSE_ID, RQ_REVISION, RQ_MACHINE_ID, RQ_DEVICE_KEY,
        RQ_NONCE, RQ_CREATED, RQ_HOSTNAME, RQ_HARDWARE_ID,
        _RQ_MAX,
};

#define AT(m) .offset = offsetof(MachineRequest, m)

/* Which fields a type has is decided by request_required[] below, after
 * the type is known; so none is FIELD_REQUIRED here. */
static const FieldSpec request_fields[_RQ_MAX] = {
        [RQ_FORMAT] = {"licensed-request", FIELD_VERSION, .flags = 0},
        [RQ_TYPE] = {"type", FIELD_ENUM, AT(type), .names = machine_request_type_table,
                     .n_names = _MACHINE_REQUEST_TYPE_MAX, .noun = "request type"},
        [RQ_PRODUCT] = {"product", FIELD_PRODUCT, AT(product)},
        [RQ_KEY] = {"key", FIELD_LICENSE_KEY, AT(key)},
        [RQ_LICENSE_ID] = {"license-id", FIELD_LICENSE_ID, AT(license_id)},
        [RQ_REVISION] = {"revision", FIELD_U32, AT(revision)},
        [RQ_MACHINE_ID] = {"machine-id", FIELD_HEX, AT(machine_id), .max = MACHINE_ID_HEX_LEN},
        [RQ_DEVICE_KEY] = {"device-key", FIELD_PUBLIC_KEY, AT(device_key)},
        [RQ_NONCE] = {"nonce", FIELD_HEX, AT(nonce), .max = LICENSE_NONCE_HEX_LEN},
        [RQ_CREATED] = {"created", FIELD_TIME, AT(created)},
        [RQ_HOSTNAME] = {"hostname", FIELD_TEXT, AT(hostname), .max = MACHINE_REQUEST_HOSTNAME_MAX},
        [RQ_HARDWARE_ID] = {"hardware-id", FIELD_HEX, AT(hardware_id), .max = MACHINE_REQUEST_HARDWARE_ID_HEX_LEN},
};

#undef AT

static int request_check_type(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err);

static const DocumentSpec request_spec = {
        .what = "request",
        .version = DOCUMENT_FORMAT_VERSION,
        .fields = request_fields,
        .n_fields = _RQ_MAX,
        .check = request_check_type,
};

#define RQ_COMMON                                                                                           \
        (BIT(RQ_FORMAT) | BIT(RQ_TYPE) | BIT(RQ_PRODUCT) | BIT(RQ_MACHINE_ID) | BIT(RQ_DEVICE_KEY) |      \
         BIT(RQ_NONCE) | BIT(RQ_CREATED))
#define RQ_INSTALLED (BIT(RQ_LICENSE_ID) | BIT(RQ_REVISION))

static const uint32_t request_required[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = RQ_COMMON | BIT(RQ_KEY),
        [MACHINE_REQUEST_VALIDATION] = RQ_COMMON | RQ_INSTALLED,
        [MACHINE_REQUEST_DEACTIVATION] = RQ_COMMON | RQ_INSTALLED,
        /* No key: the product and the machine are all a trial names. */
        [MACHINE_REQUEST_TRIAL] = RQ_COMMON,
};
/* What a type may carry besides: only a trial has a hardware id, as only
 * a trial is refused by what the machine was before a reinstall. */
static const uint32_t request_optional[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = BIT(RQ_HOSTNAME),
        [MACHINE_REQUEST_VALIDATION] = BIT(RQ_HOSTNAME),
        [MACHINE_REQUEST_DEACTIVATION] = BIT(RQ_HOSTNAME),
        [MACHINE_REQUEST_TRIAL] = BIT(RQ_HOSTNAME) | BIT(RQ_HARDWARE_ID),
};

enum {
        RC_FORMAT, RC_LICENSE_ID, RC_PRODUCT, RC_MACHINE_ID, RC_NONCE, RC_VALIDATED, RC_STATUS,
        _RC_MAX,
};

#define AT(m) .offset = offsetof(ValidationReceipt, m)
#define REQ FIELD_REQUIRED

static const FieldSpec receipt_fields[_RC_MAX] = {
        [RC_FORMAT] = {"licensed-receipt", FIELD_VERSION, .flags = REQ},
        [RC_LICENSE_ID] = {"license-id", FIELD_LICENSE_ID, .flags = REQ, AT(license_id)},
        [RC_PRODUCT] = {"product", FIELD_PRODUCT, .flags = REQ, AT(product)},
        [RC_MACHINE_ID] = {"machine-id", FIELD_HEX, .flags = REQ, AT(machine_id), .max = MACHINE_ID_HEX_LEN},
        [RC_NONCE] = {"nonce", FIELD_HEX, .flags = REQ, AT(nonce), .max = LICENSE_NONCE_HEX_LEN},
        [RC_VALIDATED] = {"validated", FIELD_TIME, .flags = REQ, AT(validated)},
        [RC_STATUS] = {"status", FIELD_ENUM, .flags = REQ, AT(status), .names = receipt_status_table,
                       .n_names = _RECEIPT_STATUS_MAX, .noun = "status"},
};

#undef AT
#undef REQ

static const DocumentSpec receipt_spec = {
        .what = "receipt",
        .version = DOCUMENT_FORMAT_VERSION,
        .fields = receipt_fields,
        .n_fields = _RC_MAX,
};

/* The type decides the rest, so it must be there before anything else is
 * judged: then the fields that type allows and needs. */
static int request_check_type(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err) {
        const MachineRequest *mr = doc;
        uint32_t allowed;
        int r;

        r = document_check_required(&request_spec, seen, BIT(RQ_FORMAT) | BIT(RQ_TYPE), NULL, err);
        if (r < 0)
                return r;
        allowed = request_required[mr->type] | request_optional[mr->type];
        for (size_t i = 0; i < _RQ_MAX; i++)
                if ((seen & BIT(i)) && !(allowed & BIT(i)))
                        return core_error_set(err, EBADMSG, "line %u: '%s' is not a field of the %s", lines[i],
                                              request_fields[i].name, request_types[mr->type].noun);
        return document_check_required(&request_spec, seen, request_required[mr->type],
                                       request_types[mr->type].noun, err);
}

static void machine_request_done_any(void *r) {
        machine_request_done(r);
}

static void validation_receipt_done_any(void *r) {
        validation_receipt_done(r);
}

static const DocumentType request_type = {&request_spec, sizeof(MachineRequest),
                                          &(MachineRequest) MACHINE_REQUEST_INIT, machine_request_done_any};
static const DocumentType receipt_type = {&receipt_spec, sizeof(ValidationReceipt),
                                          &(ValidationReceipt) VALIDATION_RECEIPT_INIT, validation_receipt_done_any};

/* Machine documents ------------------------------------------------------ */

int machine_request_sign(const MachineRequest *r, EVP_PKEY *device_key, char **ret) {
        assert(r);
        assert(device_key);
        assert(ret);

        if (r->type < 0 || r->type >= _MACHINE_REQUEST_TYPE_MAX)
                return -EINVAL;
        /* Members the type has no field for must be empty, not silently dropped. */
        if (r->type == MACHINE_REQUEST_ACTIVATION ? r->license_id || r->revision : !!r->key)
                return -EINVAL;
        if (r->hardware_id && r->type != MACHINE_REQUEST_TRIAL)
                return -EINVAL;
        /* Refuses to sign what the other side would reject. */
        return document_sign(&request_type, r, request_required[r->type] | request_optional[r->type], device_key, r->device_key,
                             request_types[r->type].kind, ret);
}

int machine_request_verify(const char *text, size_t len, MachineRequestType expected_type, MachineRequest *ret,
                           CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(machine_request_done) MachineRequest mr = MACHINE_REQUEST_INIT;
        MachineRequestType t;
        int r;

        assert(text || len == 0);
        assert(ret);

        r = armor_decode(text, len, machine_request_kind(expected_type), &a, err);
        if (r < 0)
                return r;
        t = machine_request_type_from_kind(a.kind);
        if (t < 0)
                return core_error_set(err, EBADMSG,
                                      "this is a %s, not an activation request, validation request or "
                                      "deactivation proof",
                                      a.kind);

        /* A machine document is self-signed: the key that verifies it is the
         * device-key inside the body, so the body has to be parsed before the
         * signature can be checked. The parser is the same strict, bounded one
         * that reads verified bodies, and nothing it returns is used unless the
         * signature then verifies against that very key. What the signature
         * proves is possession of the device key, not who the machine is. */
        r = document_decode_new(&request_type, a.body, a.body_len, &mr, err);
        if (r < 0) {
                core_error_prefix(err, "the %s is invalid: ", request_types[t].noun);
                return r;
        }
        r = armor_verify_self_signed(&a, mr.device_key, request_types[t].noun, err);
        if (r < 0)
                return r;
        if (mr.type != t)
                return core_error_set(err, EBADMSG, "the armor says %s but the body says type %s",
                                      request_types[t].noun, machine_request_type_to_string(mr.type));
        *ret = mr;
        mr = (MachineRequest) MACHINE_REQUEST_INIT;
        return 0;
}

/* Receipts --------------------------------------------------------------- */

int validation_receipt_sign(const ValidationReceipt *r, EVP_PKEY *vendor_key, char **ret) {
        assert(r);
        assert(vendor_key);
        assert(ret);
        return document_sign(&receipt_type, r, FIELDS_ALL, vendor_key, NULL, RECEIPT_KIND, ret);
}

/* Verifies with key, or with the key of products that the Key-Id names;
 * parses only after the signature verifies. */
static int receipt_verify(const char *text, size_t len, EVP_PKEY *key, const ProductSet *products,
                          ValidationReceipt *ret, CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(validation_receipt_done) ValidationReceipt rc = VALIDATION_RECEIPT_INIT;
        int r;

        assert(text || len == 0);
        assert(ret);

        r = armor_decode(text, len, RECEIPT_KIND, &a, err);
        if (r < 0)
                return r;
        /* As for licenses: the still untrusted body cannot choose the key. */
        if (!key)
                key = product_set_find_any_key(products, a.key_id);
        if (!key)
                return core_error_set(err, ENOKEY,
                                      "the receipt is signed by key %s, which no installed product trusts",
                                      a.key_id);
        r = armor_verify(&a, key, err);
        if (r < 0)
                return r;
        r = document_decode_new(&receipt_type, a.body, a.body_len, &rc, err);
        if (r < 0) {
                core_error_prefix(err, "signed receipt body is invalid: ");
                return r;
        }
        if (products) {
                r = product_set_check_signer(products, rc.product, a.key_id, key, "receipt", NULL, err);
                if (r < 0)
                        return r;
        }
        *ret = rc;
        rc = (ValidationReceipt) VALIDATION_RECEIPT_INIT;
        return 0;
}

int validation_receipt_verify_with_key(const char *text, size_t len, EVP_PKEY *key, ValidationReceipt *ret,
                                       CoreError *err) {
        assert(key);
        return receipt_verify(text, len, key, NULL, ret, err);
}

int validation_receipt_verify_with_products(const char *text, size_t len, const ProductSet *products,
                                            ValidationReceipt *ret, CoreError *err) {
        assert(products);
        return receipt_verify(text, len, NULL, products, ret, err);
}
