/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <assert.h>
#include <inttypes.h>
#include <stddef.h>

#include "armor.h"
#include "fields.h"
#include "license-key.h"
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
};

static const struct {
        const char *kind; /* the armor kind */
        const char *noun; /* for sentences */
} request_types[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = {"ACTIVATION REQUEST", "activation request"},
        [MACHINE_REQUEST_VALIDATION] = {"VALIDATION REQUEST", "validation request"},
        [MACHINE_REQUEST_DEACTIVATION] = {"DEACTIVATION PROOF", "deactivation proof"},
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

static MachineRequestType machine_request_type_from_kind(const char *kind) {
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

int nonce_generate(char out[static 33]) {
        uint8_t b[16];
        int r;

        r = random_bytes(b, sizeof(b));
        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(out + 2 * i, 3, "%02x", b[i]);
        return 0;
}

/* Both kinds of document are described by one table each: the order of the
 * table is the order of the canonical body, and each entry says how its
 * value is checked and where it is stored. Formatting and parsing walk the
 * same table, so they cannot disagree. */

typedef enum ValueKind {
        VALUE_FORMAT, /* the first line: "licensed-request: 1" */
        VALUE_TYPE,   /* MachineRequestType */
        VALUE_STATUS, /* ReceiptStatus */
        VALUE_PRODUCT,
        VALUE_LICENSE_ID,
        VALUE_REVISION, /* uint32_t */
        VALUE_LICENSE_KEY,
        VALUE_HEX32, /* machine-id, nonce */
        VALUE_DEVICE_KEY,
        VALUE_TIME, /* int64_t */
        VALUE_HOSTNAME,
} ValueKind;

typedef struct FieldSpec {
        const char *name;
        ValueKind kind;
        size_t offset; /* of the member in MachineRequest or ValidationReceipt */
} FieldSpec;

typedef struct DocumentSpec {
        const char *what; /* "request", "receipt": for messages */
        const FieldSpec *fields;
        size_t n_fields;
} DocumentSpec;

enum {
        RQ_FORMAT, RQ_TYPE, RQ_PRODUCT, RQ_KEY, RQ_LICENSE_ID, RQ_REVISION, RQ_MACHINE_ID, RQ_DEVICE_KEY,
        RQ_NONCE, RQ_CREATED, RQ_HOSTNAME,
        _RQ_MAX,
};

static const FieldSpec request_fields[_RQ_MAX] = {
        [RQ_FORMAT] = {"licensed-request", VALUE_FORMAT, 0},
        [RQ_TYPE] = {"type", VALUE_TYPE, offsetof(MachineRequest, type)},
        [RQ_PRODUCT] = {"product", VALUE_PRODUCT, offsetof(MachineRequest, product)},
        [RQ_KEY] = {"key", VALUE_LICENSE_KEY, offsetof(MachineRequest, key)},
        [RQ_LICENSE_ID] = {"license-id", VALUE_LICENSE_ID, offsetof(MachineRequest, license_id)},
        [RQ_REVISION] = {"revision", VALUE_REVISION, offsetof(MachineRequest, revision)},
        [RQ_MACHINE_ID] = {"machine-id", VALUE_HEX32, offsetof(MachineRequest, machine_id)},
        [RQ_DEVICE_KEY] = {"device-key", VALUE_DEVICE_KEY, offsetof(MachineRequest, device_key)},
        [RQ_NONCE] = {"nonce", VALUE_HEX32, offsetof(MachineRequest, nonce)},
        [RQ_CREATED] = {"created", VALUE_TIME, offsetof(MachineRequest, created)},
        [RQ_HOSTNAME] = {"hostname", VALUE_HOSTNAME, offsetof(MachineRequest, hostname)},
};

static const DocumentSpec request_spec = {"request", request_fields, _RQ_MAX};

#define RQ_COMMON                                                                                           \
        (BIT(RQ_FORMAT) | BIT(RQ_TYPE) | BIT(RQ_PRODUCT) | BIT(RQ_MACHINE_ID) | BIT(RQ_DEVICE_KEY) |      \
         BIT(RQ_NONCE) | BIT(RQ_CREATED))
#define RQ_INSTALLED (BIT(RQ_LICENSE_ID) | BIT(RQ_REVISION))

static const uint32_t request_required[_MACHINE_REQUEST_TYPE_MAX] = {
        [MACHINE_REQUEST_ACTIVATION] = RQ_COMMON | BIT(RQ_KEY),
        [MACHINE_REQUEST_VALIDATION] = RQ_COMMON | RQ_INSTALLED,
        [MACHINE_REQUEST_DEACTIVATION] = RQ_COMMON | RQ_INSTALLED,
};
#define RQ_OPTIONAL BIT(RQ_HOSTNAME)

enum {
        RC_FORMAT, RC_LICENSE_ID, RC_PRODUCT, RC_MACHINE_ID, RC_NONCE, RC_VALIDATED, RC_STATUS,
        _RC_MAX,
};

static const FieldSpec receipt_fields[_RC_MAX] = {
        [RC_FORMAT] = {"licensed-receipt", VALUE_FORMAT, 0},
        [RC_LICENSE_ID] = {"license-id", VALUE_LICENSE_ID, offsetof(ValidationReceipt, license_id)},
        [RC_PRODUCT] = {"product", VALUE_PRODUCT, offsetof(ValidationReceipt, product)},
        [RC_MACHINE_ID] = {"machine-id", VALUE_HEX32, offsetof(ValidationReceipt, machine_id)},
        [RC_NONCE] = {"nonce", VALUE_HEX32, offsetof(ValidationReceipt, nonce)},
        [RC_VALIDATED] = {"validated", VALUE_TIME, offsetof(ValidationReceipt, validated)},
        [RC_STATUS] = {"status", VALUE_STATUS, offsetof(ValidationReceipt, status)},
};

static const DocumentSpec receipt_spec = {"receipt", receipt_fields, _RC_MAX};

#define RC_ALL (BIT(_RC_MAX) - 1)

/* Formatting ------------------------------------------------------------ */

static int document_format(const DocumentSpec *d, const void *doc, uint32_t include, char **ret, size_t *ret_len) {
        FieldWriter w = {};

        for (size_t i = 0; i < d->n_fields; i++) {
                const FieldSpec *s = &d->fields[i];
                const uint8_t *p = (const uint8_t *) doc + s->offset;

                if (!(include & BIT(i)))
                        continue;
                switch (s->kind) {
                case VALUE_FORMAT:
                        field_write(&w, s->name, DOCUMENT_FORMAT_VERSION);
                        break;
                case VALUE_TYPE:
                        field_write(&w, s->name, machine_request_type_to_string(*(const MachineRequestType *) p));
                        break;
                case VALUE_STATUS:
                        field_write(&w, s->name, receipt_status_to_string(*(const ReceiptStatus *) p));
                        break;
                case VALUE_REVISION:
                        field_writef(&w, s->name, "%" PRIu32, *(const uint32_t *) p);
                        break;
                case VALUE_TIME:
                        field_write_time(&w, s->name, *(const int64_t *) p);
                        break;
                default:
                        field_write(&w, s->name, *(char *const *) p);
                }
        }
        return field_writer_finish(&w, ret, ret_len);
}

/* Parsing --------------------------------------------------------------- */

static int parse_value(const DocumentSpec *d, const FieldSpec *s, const Field *f, void *doc, CoreError *err) {
        uint8_t *p = (uint8_t *) doc + s->offset;
        const char *v = f->value;
        int r;

        switch (s->kind) {
        case VALUE_FORMAT:
                if (f->line != 1)
                        return core_error_set(err, EBADMSG, "line %u: format line must come first", f->line);
                if (!streq(v, DOCUMENT_FORMAT_VERSION))
                        return core_error_set(err, EPROTONOSUPPORT,
                                              "%s format version %.16s is not supported (this version reads "
                                              "%s): update licensed",
                                              d->what, v, DOCUMENT_FORMAT_VERSION);
                return 0;
        case VALUE_TYPE: {
                MachineRequestType t = machine_request_type_from_string(v);
                if (t < 0)
                        return core_error_set(err, EBADMSG,
                                              "line %u: unknown request type (activation, validation or "
                                              "deactivation)",
                                              f->line);
                *(MachineRequestType *) p = t;
                return 0;
        }
        case VALUE_STATUS: {
                ReceiptStatus st = receipt_status_from_string(v);
                if (st < 0)
                        return core_error_set(err, EBADMSG, "line %u: unknown status (valid or revoked)", f->line);
                *(ReceiptStatus *) p = st;
                return 0;
        }
        case VALUE_REVISION: {
                char *end;
                unsigned long n;

                errno = 0;
                n = strtoul(v, &end, 10);
                if (!(v[0] >= '0' && v[0] <= '9') || errno || *end || n > UINT32_MAX)
                        return core_error_set(err, EBADMSG, "line %u: bad revision", f->line);
                *(uint32_t *) p = (uint32_t) n;
                return 0;
        }
        case VALUE_TIME:
                if (time_parse_rfc3339(v, (int64_t *) p, NULL) < 0)
                        return core_error_set(err, EBADMSG, "line %u: %s is not a UTC time", f->line, f->name);
                return 0;
        case VALUE_PRODUCT:
                if (!product_id_is_valid(v))
                        return core_error_set(err, EBADMSG, "line %u: bad product id", f->line);
                break;
        case VALUE_LICENSE_ID:
                if (!identifier_is_valid(v, LICENSE_ID_MAX))
                        return core_error_set(err, EBADMSG, "line %u: bad license id", f->line);
                break;
        case VALUE_LICENSE_KEY: {
                char canonical[LICENSE_KEY_STRING_SIZE];

                r = license_key_normalize(v, canonical, err);
                if (r < 0) {
                        core_error_prefix(err, "line %u: key: ", f->line);
                        return -EBADMSG;
                }
                if (!streq(v, canonical))
                        return core_error_set(err, EBADMSG, "line %u: key is not in canonical form", f->line);
                break;
        }
        case VALUE_HEX32:
                if (!hex_is_valid(v, 32))
                        return core_error_set(err, EBADMSG, "line %u: %s must be 32 lower-case hex digits",
                                              f->line, f->name);
                break;
        case VALUE_DEVICE_KEY: {
                _cleanup_pkey_ EVP_PKEY *k = NULL;
                _cleanup_free_ char *canonical = NULL;

                /* Exactly one text per key: re-encoding must give the same string. */
                if (ed25519_public_from_base64(v, &k, NULL) < 0 || ed25519_public_base64(k, &canonical) < 0 ||
                    !streq(v, canonical))
                        return core_error_set(err, EBADMSG, "line %u: bad device-key", f->line);
                break;
        }
        case VALUE_HOSTNAME:
                if (strlen(v) > MACHINE_REQUEST_HOSTNAME_MAX)
                        return core_error_set(err, EBADMSG, "line %u: hostname is longer than %d bytes", f->line,
                                              MACHINE_REQUEST_HOSTNAME_MAX);
                break;
        default:
                assert(false);
        }
        *(char **) p = strdup(v);
        return *(char **) p ? 0 : -ENOMEM;
}

/* Fills doc from body; returns which fields were seen (bit per table entry)
 * and the line of each. Unknown and repeated fields are errors. */
static int document_parse(const DocumentSpec *d, const uint8_t *body, size_t len, void *doc, uint32_t *ret_seen,
                          unsigned *lines, CoreError *err) {
        _cleanup_(fields_done) Fields fields = {};
        uint32_t seen = 0;
        int r;

        r = fields_parse((const char *) body, len, &fields, err);
        if (r < 0)
                return r;

        for (size_t i = 0; i < fields.n; i++) {
                const Field *f = &fields.items[i];
                size_t which;

                for (which = 0; which < d->n_fields; which++)
                        if (streq(f->name, d->fields[which].name))
                                break;
                if (which >= d->n_fields)
                        return core_error_set(err, EBADMSG, "line %u: unknown field '%s'", f->line, f->name);
                if (seen & BIT(which))
                        return core_error_set(err, EBADMSG, "line %u: '%s' appears twice", f->line, f->name);
                seen |= BIT(which);
                lines[which] = f->line;
                r = parse_value(d, &d->fields[which], f, doc, err);
                if (r < 0)
                        return r;
        }
        *ret_seen = seen;
        return 0;
}

static int check_required(const DocumentSpec *d, uint32_t seen, uint32_t required, const char *noun,
                          CoreError *err) {
        for (size_t i = 0; i < d->n_fields; i++)
                if ((required & BIT(i)) && !(seen & BIT(i)))
                        return core_error_set(err, EBADMSG, "required field '%s' is missing%s%s",
                                              d->fields[i].name, noun ? " from the " : "", noun ?: "");
        return 0;
}

static int machine_request_parse_body(const uint8_t *body, size_t len, MachineRequest *ret, CoreError *err) {
        _cleanup_(machine_request_done) MachineRequest mr = MACHINE_REQUEST_INIT;
        unsigned lines[_RQ_MAX] = {};
        uint32_t seen, allowed;
        int r;

        r = document_parse(&request_spec, body, len, &mr, &seen, lines, err);
        if (r < 0)
                return r;
        /* The type decides the rest, so it must be there before anything else is judged. */
        r = check_required(&request_spec, seen, BIT(RQ_FORMAT) | BIT(RQ_TYPE), NULL, err);
        if (r < 0)
                return r;
        allowed = request_required[mr.type] | RQ_OPTIONAL;
        for (size_t i = 0; i < _RQ_MAX; i++)
                if ((seen & BIT(i)) && !(allowed & BIT(i)))
                        return core_error_set(err, EBADMSG, "line %u: '%s' is not a field of the %s", lines[i],
                                              request_fields[i].name, request_types[mr.type].noun);
        r = check_required(&request_spec, seen, request_required[mr.type], request_types[mr.type].noun, err);
        if (r < 0)
                return r;
        *ret = mr;
        mr = (MachineRequest) MACHINE_REQUEST_INIT;
        return 0;
}

static int validation_receipt_parse_body(const uint8_t *body, size_t len, ValidationReceipt *ret,
                                         CoreError *err) {
        _cleanup_(validation_receipt_done) ValidationReceipt rc = VALIDATION_RECEIPT_INIT;
        unsigned lines[_RC_MAX] = {};
        uint32_t seen;
        int r;

        r = document_parse(&receipt_spec, body, len, &rc, &seen, lines, err);
        if (r < 0)
                return r;
        r = check_required(&receipt_spec, seen, RC_ALL, NULL, err);
        if (r < 0)
                return r;
        *ret = rc;
        rc = (ValidationReceipt) VALIDATION_RECEIPT_INIT;
        return 0;
}

/* Machine documents ------------------------------------------------------ */

int machine_request_sign(const MachineRequest *r, EVP_PKEY *device_key, char **ret) {
        _cleanup_(machine_request_done) MachineRequest check = MACHINE_REQUEST_INIT;
        _cleanup_free_ char *body = NULL, *pub = NULL;
        size_t len;
        int k;

        assert(r);
        assert(device_key);
        assert(ret);

        if (r->type < 0 || r->type >= _MACHINE_REQUEST_TYPE_MAX)
                return -EINVAL;
        k = ed25519_public_base64(device_key, &pub);
        if (k < 0)
                return k;
        if (!streq_ptr(pub, r->device_key))
                return -EINVAL;
        /* Members the type has no field for must be empty, not silently dropped. */
        if (r->type == MACHINE_REQUEST_ACTIVATION ? r->license_id || r->revision : !!r->key)
                return -EINVAL;
        k = document_format(&request_spec, r, request_required[r->type] | RQ_OPTIONAL, &body, &len);
        if (k < 0)
                return k;
        /* Refuse to sign what the other side would reject. */
        if (machine_request_parse_body((const uint8_t *) body, len, &check, NULL) < 0)
                return -EINVAL;
        return armor_sign(device_key, request_types[r->type].kind, (const uint8_t *) body, len, ret);
}

int machine_request_verify(const char *text, size_t len, MachineRequestType expected_type, MachineRequest *ret,
                           CoreError *err) {
        _cleanup_(armor_done) Armor a = {};
        _cleanup_(machine_request_done) MachineRequest mr = MACHINE_REQUEST_INIT;
        _cleanup_pkey_ EVP_PKEY *key = NULL;
        char key_id[KEY_ID_STRING_SIZE];
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
        r = machine_request_parse_body(a.body, a.body_len, &mr, err);
        if (r < 0) {
                core_error_prefix(err, "the %s is invalid: ", request_types[t].noun);
                return r;
        }
        r = ed25519_public_from_base64(mr.device_key, &key, err);
        if (r < 0)
                return r;
        r = key_id_from_key(key, key_id);
        if (r < 0)
                return r;
        if (!streq(key_id, a.key_id))
                return core_error_set(err, ENOKEY,
                                      "the Key-Id %s does not match the device key in the %s (key id %s)",
                                      a.key_id, request_types[t].noun, key_id);
        r = armor_verify(&a, key, err);
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
        _cleanup_(validation_receipt_done) ValidationReceipt check = VALIDATION_RECEIPT_INIT;
        _cleanup_free_ char *body = NULL;
        size_t len;
        int k;

        assert(r);
        assert(vendor_key);
        assert(ret);

        k = document_format(&receipt_spec, r, RC_ALL, &body, &len);
        if (k < 0)
                return k;
        if (validation_receipt_parse_body((const uint8_t *) body, len, &check, NULL) < 0)
                return -EINVAL;
        return armor_sign(vendor_key, RECEIPT_KIND, (const uint8_t *) body, len, ret);
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
        r = validation_receipt_parse_body(a.body, a.body_len, &rc, err);
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
