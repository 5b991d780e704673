/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* The body of every signed document, and of the daemon's small state files,
 * is a list of "name: value" lines, LF terminated, UTF-8, no control
 * characters. Names repeat only where the format allows (feature, property).
 *
 * Two layers: fields_parse() splits the text into lines, and the codec below
 * reads them into a struct and writes them back, driven by a table that
 * describes the document (one FieldSpec per field). Each kind of value has
 * exactly one validator here, so a revision, a nonce or a device key is
 * judged the same way in a license, a request, a receipt and a state file,
 * and each accepts one spelling of a value only where the format fixes one
 * (numbers without leading zeros, keys as their encoder writes them). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "error.h"

#define FIELDS_MAX 1024
#define FIELD_NAME_MAX 32
#define FIELD_VALUE_MAX 1024

typedef struct Field {
        char name[FIELD_NAME_MAX];
        char *value;
        unsigned line;
} Field;

typedef struct Fields {
        Field *items;
        size_t n;
} Fields;

/* Splits body into fields. Errors say which line is wrong and why. */
int fields_parse(const char *body, size_t len, Fields *ret, CoreError *err);
void fields_done(Fields *f);

/* Builder for the canonical text: appends "name: value\n". */
typedef struct FieldWriter {
        char *buf;
        size_t len, cap;
        int error; /* sticky: first failure */
} FieldWriter;

void field_write(FieldWriter *w, const char *name, const char *value);
void field_writef(FieldWriter *w, const char *name, const char *fmt, ...) _printf_(3, 4);
void field_write_time(FieldWriter *w, const char *name, int64_t t);
void field_write_duration(FieldWriter *w, const char *name, int64_t d);
/* Returns the text (caller frees) or negative errno from the first failure. */
int field_writer_finish(FieldWriter *w, char **ret, size_t *ret_len);

/* The codec --------------------------------------------------------------- */

typedef enum FieldKind {
        FIELD_VERSION,     /* the format line: line 1, value DocumentSpec.version; no member */
        FIELD_U32,         /* uint32_t: decimal digits, no sign, no leading zero */
        FIELD_COUNT,       /* int64_t >= 0: decimal digits, no sign, no leading zero */
        FIELD_TIME,        /* int64_t: RFC 3339 UTC (time_parse_rfc3339); TIME_UNSET is not written */
        FIELD_DURATION,    /* int64_t: duration_parse(); negative is not written */
        FIELD_BOOL,        /* bool: "yes" or "no" */
        FIELD_ENUM,        /* int-sized enum: the index of its name in FieldSpec.names */
        FIELD_LICENSE_ID,  /* string: identifier_is_valid(, LICENSE_ID_MAX) */
        FIELD_PRODUCT,     /* string: product_id_is_valid() */
        FIELD_HEX,         /* string: exactly FieldSpec.max lower-case hex digits */
        FIELD_PUBLIC_KEY,  /* string: a raw Ed25519 public key in base64, exactly as the encoder writes it */
        FIELD_LICENSE_KEY, /* string: a license key in its canonical form */
        FIELD_URL,         /* string: http:// or https:// */
        FIELD_TEXT,        /* string: at most FieldSpec.max bytes (0: FIELD_VALUE_MAX) */
        FIELD_CUSTOM,      /* FieldSpec.parse and .format do the work */
        _FIELD_KIND_MAX,
} FieldKind;

/* FieldSpec.flags */
#define FIELD_REQUIRED (1u << 0) /* document_decode() fails without it; written even when unset */
#define FIELD_REPEATED (1u << 1) /* may appear more than once (FIELD_CUSTOM only) */
#define FIELD_INLINE (1u << 2)   /* a string member is a char[max + 1], not a malloc'd char * */

/* Most fields a document may have: decode reports them as bits. */
#define DOCUMENT_FIELDS_MAX 32

/* A table entry gives name and kind in place and the rest by designator
 * ({"revision", FIELD_U32, .flags = FIELD_REQUIRED, .offset = ...}): what is
 * not given is zero, and compilers do not take it for a forgotten member. */
typedef struct FieldSpec {
        const char *name;
        FieldKind kind;
        unsigned flags;
        size_t offset;                /* of the member in the document struct */
        size_t max;                   /* FIELD_HEX: digits; FIELD_TEXT: bytes; FIELD_INLINE: array size - 1 */
        const char *const *names;     /* FIELD_ENUM: the value names, indexed by the enum */
        size_t n_names;
        const char *noun;             /* FIELD_ENUM: for "unknown license type (...)" */
        /* FIELD_CUSTOM: parse stores f's value into doc; format writes the
         * field(s) with w (nothing if unset). */
        int (*parse)(void *doc, const Field *f, CoreError *err);
        void (*format)(FieldWriter *w, const char *name, const void *doc);
} FieldSpec;

typedef struct DocumentSpec {
        const char *what;    /* "license", "request", ...: for messages */
        const char *version; /* value of the FIELD_VERSION line */
        const FieldSpec *fields;
        size_t n_fields; /* at most DOCUMENT_FIELDS_MAX */
        /* Optional: the document's own rules over the decoded fields (which
         * fields a request type allows, say), run after the required
         * fields are checked and before the order is: seen and lines as
         * document_decode() returns them. */
        int (*check)(const void *doc, uint32_t seen, const unsigned *lines, CoreError *err);
} DocumentSpec;

#define FIELDS_ALL UINT32_MAX

/* Reads body into doc (initialized by the caller, freed by the caller also
 * on failure). Unknown fields, a field given twice that is not
 * FIELD_REPEATED, a value its kind's validator refuses and a missing
 * FIELD_REQUIRED field are errors that name the line: -EBADMSG, or
 * -EPROTONOSUPPORT for another format version. Then the spec's check, and
 * last the one encoding rule that is about the whole body: the fields in
 * the table's order, which is the order document_encode() writes (a
 * repeated field's lines together); so a more specific error is reported
 * first. Times and durations must be spelled as the writer spells them.
 * ret_seen gets a bit per table entry that was present; ret_lines
 * (n_fields entries) the line of each. Both optional. */
int document_decode(const DocumentSpec *d, const char *body, size_t len, void *doc, uint32_t *ret_seen,
                    unsigned *ret_lines, CoreError *err);

/* The canonical text of doc: the fields whose bit is set in include, in
 * table order, each written unless unset (see FieldKind). -EINVAL if a value
 * cannot be a field (empty, too long, not printable UTF-8); the callers that
 * sign decode the text again, or check the members, for the rest. */
int document_encode(const DocumentSpec *d, const void *doc, uint32_t include, char **ret, size_t *ret_len);

/* -EBADMSG naming the first field of the table that is in required but not
 * in seen ("... is missing from the <noun>", noun optional). */
int document_check_required(const DocumentSpec *d, uint32_t seen, uint32_t required, const char *noun,
                            CoreError *err);

/* A document's C type, for the two helpers below: its table, the size and
 * initial value (FOO_INIT) of its struct, and the function that frees
 * its members. */
typedef struct DocumentType {
        const DocumentSpec *spec;
        size_t size;
        const void *init;
        void (*done)(void *doc);
} DocumentType;

/* document_decode() of body into *ret, which is written only on success
 * (a decoded copy the caller then owns). */
int document_decode_new(const DocumentType *t, const uint8_t *body, size_t len, void *ret, CoreError *err);

/* For signers: document_encode() of doc, refused with -EINVAL unless
 * document_decode() (with the spec's check) accepts the text again, so
 * that nothing is signed that its reader would refuse. */
int document_encode_checked(const DocumentType *t, const void *doc, uint32_t include, char **ret,
                            size_t *ret_len);

/* document_encode_checked(), signed with key and armored as kind. For a
 * self-signed document, self_public is the public key the body names
 * (-EINVAL unless it is key's); NULL otherwise. */
int document_sign(const DocumentType *t, const void *doc, uint32_t include, EVP_PKEY *key, const char *self_public,
                  const char *kind, char **ret);

/* The u32 validator, also for numbers inside a value (feature limit=):
 * decimal digits, no sign, no leading zero. -EINVAL or -ERANGE. */
int field_parse_u32(const char *s, uint32_t *ret);
