# SPDX-License-Identifier: LGPL-2.1-or-later
"""The customer machine played by Python: its device key and the documents
it signs (ACTIVATION REQUEST, VALIDATION REQUEST, DEACTIVATION PROOF), built
with the `cryptography` module exactly as docs/offline.md says, which also
checks the format is implementable from its documentation alone. Shared by
test_offline_vendor.py (licensed-vendor) and test_server.py
(licensed-server)."""
import base64
import hashlib
import secrets

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

PRODUCT = "com.example.app"
MACHINE_ID = "0123456789abcdef0123456789abcdef"
NONCE = "00112233445566778899aabbccddeeff"
KINDS = {
    "activation": "ACTIVATION REQUEST",
    "validation": "VALIDATION REQUEST",
    "deactivation": "DEACTIVATION PROOF",
}


def key_id(raw):
    return hashlib.sha256(raw).digest()[:8].hex()


def armor(kind, kid, signature, body):
    b64 = base64.b64encode(body).decode()
    lines = [f"-----BEGIN LICENSED {kind}-----", f"Key-Id: {kid}",
             f"Signature: {base64.b64encode(signature).decode()}", ""]
    lines += [b64[i:i + 64] for i in range(0, len(b64), 64)]
    lines.append(f"-----END LICENSED {kind}-----")
    return "\n".join(lines) + "\n"


def dearmor(text):
    """Returns (kind, headers, body bytes) of the first armored block."""
    lines = text.strip().split("\n")
    kind = lines[0][len("-----BEGIN LICENSED "):-5]
    blank = lines.index("")
    headers = dict(l.split(": ", 1) for l in lines[1:blank])
    end = next(i for i, l in enumerate(lines) if l.startswith("-----END "))
    body = base64.b64decode("".join(lines[blank + 1:end]))
    return kind, headers, body


def fields(body):
    """A body's 'name: value' lines as a dict (repeated names: the last one)."""
    return dict(l.split(": ", 1) for l in body.decode().splitlines())


def verify(text, pub_b64, kind):
    """Verifies an armored document signed by the vendor key pub_b64 (the
    .pub file's text) and returns its body's fields."""
    got, headers, body = dearmor(text)
    assert got == kind, f"{got} is not {kind}"
    raw = base64.b64decode(pub_b64.strip())
    assert headers["Key-Id"] == key_id(raw)
    ed25519.Ed25519PublicKey.from_public_bytes(raw).verify(base64.b64decode(headers["Signature"]), body)
    return fields(body)


def tamper(text, old, new):
    """The document with old replaced by new in its body, signature kept."""
    kind, headers, body = dearmor(text)
    return armor(kind, headers["Key-Id"], base64.b64decode(headers["Signature"]), body.replace(old, new))


class Device:
    """The machine: its machine id, its device key, and the documents it
    signs. Field overrides take underscores for dashes (license_id=...);
    None leaves a field out."""

    def __init__(self, machine_id=MACHINE_ID, product=PRODUCT):
        self.machine_id = machine_id
        self.product = product
        self.key = ed25519.Ed25519PrivateKey.generate()
        self.raw = self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.pub = base64.b64encode(self.raw).decode()
        self.key_id = key_id(self.raw)

    def body(self, type, **over):
        over = {k.replace("_", "-"): v for k, v in over.items()}
        # in the order licensed writes them (core/request.c): a document has
        # exactly one accepted encoding
        fields = {"licensed-request": "1", "type": type, "product": self.product}
        if type == "activation":
            fields["key"] = over.pop("key")
        else:
            fields["license-id"] = "acme-0001"
            fields["revision"] = "2"
        fields.update({
            "machine-id": self.machine_id,
            "device-key": self.pub,
            "nonce": NONCE,
            "created": "2026-01-01T00:00:00Z",
            "hostname": "build-01.example.com",
        })
        fields.update(over)
        return "".join(f"{k}: {v}\n" for k, v in fields.items() if v is not None).encode()

    def sign(self, type, kind=None, kid=None, **over):
        body = self.body(type, **over)
        return armor(kind or KINDS[type], kid or self.key_id, self.key.sign(body), body)


def new_nonce():
    return secrets.token_hex(16)


def new_machine_id():
    return secrets.token_hex(16)


# The request in the offline page's URL (docs/offline.md, "The request in a
# URL"): "#request=K.KEYID.SIGNATURE.BODY", K the kind's letter, signature
# and body base64url without padding.
URL_LETTERS = {"ACTIVATION REQUEST": "a", "VALIDATION REQUEST": "v", "DEACTIVATION PROOF": "d", "TRIAL REQUEST": "t"}


def _b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def request_url(page, text):
    kind, headers, body = dearmor(text)
    sig = base64.b64decode(headers["Signature"])
    return f"{page}#request={URL_LETTERS[kind]}.{headers['Key-Id']}.{_b64url(sig)}.{_b64url(body)}"


def request_from_url(url):
    """The armored document a URL of request_url() carries (what the page's
    script rebuilds)."""
    letter, kid, sig, body = url.split("#request=", 1)[1].split(".")
    kind = {v: k for k, v in URL_LETTERS.items()}[letter]
    unb64 = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    return armor(kind, kid, unb64(sig), unb64(body))
