#!/usr/bin/env python3
"""SM2 signatures made by an independent implementation, OpenSSL 3, for tests/sm2.rs.

Each record of openssl.ndjson is a `veribatch verify sm2` input record plus "case" (what
it tests) and "expect" ("valid", "invalid", or "malformed:FIELD"). OpenSSL signs (and
checks each valid signature with `pkeyutl -verify`); the tampered records change one
thing of a valid one. Z and e for the digest records are computed here with Python's
hashlib SM3 (OpenSSL's), from the standard's formula.

    python3 tests/vectors/sm2/generate.py   # writes tests/vectors/sm2/openssl.ndjson
"""

import hashlib
import json
import os
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = P - 3
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
DEFAULT_ID = b"1234567812345678"


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, capture_output=True, check=True).stdout


def sm3(data):
    return hashlib.new("sm3", data).digest()


def z(identity, public_key):
    fields = b"".join(v.to_bytes(32, "big") for v in (A, B, GX, GY))
    return sm3((len(identity) * 8).to_bytes(2, "big") + identity + fields + public_key[1:])


def der_integers(sig):
    """r and s of a DER signature (as OpenSSL writes it)."""
    assert sig[0] == 0x30
    rest = sig[2:]
    values = []
    for _ in range(2):
        assert rest[0] == 0x02
        length = rest[1]
        values.append(int.from_bytes(rest[2 : 2 + length], "big"))
        rest = rest[2 + length :]
    return values


def der(r_bytes, s_bytes):
    def integer(b):
        return b"\x02" + bytes([len(b)]) + b

    body = integer(r_bytes) + integer(s_bytes)
    return b"\x30" + bytes([len(body)]) + body


def minimal(v):
    b = v.to_bytes(33, "big").lstrip(b"\x00") or b"\x00"
    return b"\x00" + b if b[0] & 0x80 else b


def hx(b):
    return "0x" + b.hex()


def main():
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        keys = []
        for k in range(4):
            pem = os.path.join(tmp, f"key{k}.pem")
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:SM2", "-out", pem)
            pub_pem = os.path.join(tmp, f"pub{k}.pem")
            openssl("pkey", "-in", pem, "-pubout", "-out", pub_pem)
            spki = openssl("pkey", "-in", pem, "-pubout", "-outform", "DER")
            keys.append((pem, pub_pem, spki[-65:]))

        def sign(key, message, identity):
            pem, pub_pem, _ = key
            msg = os.path.join(tmp, "msg.bin")
            sig = os.path.join(tmp, "sig.der")
            with open(msg, "wb") as f:
                f.write(message)
            distid = "distid:" + identity.decode()
            openssl("pkeyutl", "-sign", "-inkey", pem, "-rawin", "-in", msg, "-digest", "sm3",
                    "-pkeyopt", distid, "-out", sig)
            # OpenSSL checks its own signature (exit status 0 only if valid).
            openssl("pkeyutl", "-verify", "-pubin", "-inkey", pub_pem, "-rawin", "-in", msg,
                    "-sigfile", sig, "-digest", "sm3", "-pkeyopt", distid)
            with open(sig, "rb") as f:
                return f.read()

        def record(case, expect, key, signed, signature, identity=None):
            r = {"case": case, "expect": expect, "public_key": hx(key)}
            r.update({k: hx(v) for k, v in signed.items()})
            r["signature"] = hx(signature)
            if identity is not None:
                r["id"] = hx(identity)
            records.append(r)

        identities = [DEFAULT_ID, b"ALICE123@YAHOO.COM", b"node-7.consortium.example", b""]
        for i in range(24):
            key = keys[i % len(keys)]
            public = key[2]
            identity = identities[i % len(identities)]
            message = os.urandom(i * 11 % 200)
            sig = sign(key, message, identity or DEFAULT_ID) if identity else None
            if sig is None:
                continue  # OpenSSL's distid cannot be empty: the empty ID is tested in Rust.
            given_id = None if identity == DEFAULT_ID and i % 8 == 0 else identity
            record(f"openssl-{i}", "valid", public, {"message": message}, sig, given_id)
            r, s = der_integers(sig)
            raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
            record(f"openssl-{i}-raw", "valid", public, {"message": message}, raw, identity)
            e = sm3(z(identity, public) + message)
            record(f"openssl-{i}-digest", "valid", public, {"digest": e}, sig, identity)
            x = public[1:33]
            compressed = bytes([2 + (public[64] & 1)]) + x
            record(f"openssl-{i}-compressed", "valid", compressed, {"message": message}, sig, identity)

            # One thing changed: each must be invalid.
            flipped = bytes([message[0] ^ 1]) + message[1:] if message else b"\x00"
            record(f"tampered-{i}-message", "invalid", public, {"message": flipped}, sig, identity)
            record(f"tampered-{i}-id", "invalid", public, {"message": message}, sig, identity + b"!")
            other = keys[(i + 1) % len(keys)][2]
            record(f"tampered-{i}-key", "invalid", other, {"message": message}, sig, identity)
            record(f"tampered-{i}-other-parity", "invalid", bytes([compressed[0] ^ 1]) + x,
                   {"message": message}, sig, identity)
            record(f"tampered-{i}-s", "invalid", public, {"message": message},
                   der(minimal(r), minimal((s + 1) % N or 1)), identity)
            record(f"tampered-{i}-r+s=n", "invalid", public, {"message": message},
                   der(minimal(r), minimal(N - r)), identity)
            record(f"tampered-{i}-digest", "invalid", public,
                   {"digest": e[:31] + bytes([e[31] ^ 1])}, sig, identity)

            if i < 4:
                # Malformed: each names its field.
                padded = der(b"\x00" + minimal(r), minimal(s))
                record(f"malformed-{i}-der-padded", "malformed:signature", public,
                       {"message": message}, padded, identity)
                record(f"malformed-{i}-der-trailing", "malformed:signature", public,
                       {"message": message}, sig + b"\x00", identity)
                long_form = b"\x30\x81" + sig[1:2] + sig[2:]
                record(f"malformed-{i}-der-long-length", "malformed:signature", public,
                       {"message": message}, long_form, identity)
                negative = der(b"\x80" + minimal(r)[-31:], minimal(s))
                record(f"malformed-{i}-der-negative", "malformed:signature", public,
                       {"message": message}, negative, identity)
                record(f"malformed-{i}-r-zero", "malformed:signature", public,
                       {"message": message}, bytes(32) + s.to_bytes(32, "big"), identity)
                record(f"malformed-{i}-s-n", "malformed:signature", public,
                       {"message": message}, r.to_bytes(32, "big") + N.to_bytes(32, "big"), identity)
                off_curve = public[:64] + bytes([public[64] ^ 1])
                record(f"malformed-{i}-off-curve", "malformed:public_key", off_curve,
                       {"message": message}, sig, identity)
                too_large = b"\x04" + P.to_bytes(32, "big") + public[33:]
                record(f"malformed-{i}-x-not-below-p", "malformed:public_key", too_large,
                       {"message": message}, sig, identity)
                record(f"malformed-{i}-hybrid", "malformed:public_key", b"\x06" + public[1:],
                       {"message": message}, sig, identity)
                record(f"malformed-{i}-short-digest", "malformed:digest", public,
                       {"digest": e[:31]}, sig, identity)

    out = os.path.join(HERE, "openssl.ndjson")
    with open(out, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    version = openssl("version").decode().strip()
    print(f"{len(records)} records from {version} in {out}")


if __name__ == "__main__":
    main()
