#!/usr/bin/env python3
"""Fixtures for the three schemes of the BLS signature draft, made by py_ecc 8.0.0
(Ethereum's reference implementation, independent of blst): `pip install py_ecc==8.0.0`,
then `python3 generate.py > schemes.json`.

Each case is a signature set as `veribatch verify bls` reads it, with the verdict py_ecc's
AggregateVerify (or Verify) gives under that scheme's ciphersuite; `signatures_of_hello`
holds Sign(sk, "hello") for every secret key under every scheme.
"""
import hashlib
import json

from py_ecc.bls import G2Basic, G2MessageAugmentation, G2ProofOfPossession
from py_ecc.bls.g2_primitives import G1_to_pubkey, pubkey_to_G1
from py_ecc.optimized_bls12_381 import neg

# The order of G1 and G2: secret keys are in [1, R).
R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001

SCHEMES = {"basic": G2Basic, "aug": G2MessageAugmentation, "pop": G2ProofOfPossession}


def secret(i):
    digest = hashlib.sha256(b"veribatch scheme fixture %d" % i).digest()
    return int.from_bytes(digest, "big") % (R - 1) + 1


def hx(b):
    return "0x" + b.hex()


def case(name, scheme, pubkeys, messages, signature):
    cls = SCHEMES[scheme]
    if len(pubkeys) == 1 and len(messages) == 1:
        expected = cls.Verify(pubkeys[0], messages[0], signature)
    else:
        expected = cls.AggregateVerify(pubkeys, messages, signature)
    return {
        "name": name,
        "scheme": scheme,
        "dst": cls.DST.decode(),
        "set": {
            "signature": hx(signature),
            "pubkeys": [hx(pk) for pk in pubkeys],
            "messages": [hx(m) for m in messages],
        },
        "valid": bool(expected),
    }


def main():
    sks = [secret(i) for i in range(4)]
    distinct = [b"block %d" % i for i in range(4)]
    same = [b"one checkpoint"] * 4
    infinity = bytes([0xC0]) + bytes(95)
    cases = []
    for scheme, cls in SCHEMES.items():
        pks = [cls.SkToPk(sk) for sk in sks]
        sig = cls.Sign(sks[0], b"hello")
        cases.append(case("verify", scheme, pks[:1], [b"hello"], sig))
        cases.append(case("verify, wrong message", scheme, pks[:1], [b"other"], sig))
        agg = cls.Aggregate([cls.Sign(sk, m) for sk, m in zip(sks, distinct)])
        cases.append(case("aggregate, distinct messages", scheme, pks, distinct, agg))
        agg = cls.Aggregate([cls.Sign(sk, m) for sk, m in zip(sks, same)])
        cases.append(case("aggregate, one message four times", scheme, pks, same, agg))
        # The rogue-key forgery: [pk, -pk] signing one message twice, signature at infinity.
        minus = G1_to_pubkey(neg(pubkey_to_G1(pks[0])))
        cases.append(
            case("forgery [pk, -pk]", scheme, [pks[0], minus], [b"pay", b"pay"], infinity)
        )
    # A signature of one scheme under another scheme's ciphersuite.
    sig = G2Basic.Sign(sks[1], b"hello")
    pk = G2Basic.SkToPk(sks[1])
    cases.append(case("basic signature under aug", "aug", [pk], [b"hello"], sig))
    cases.append(case("basic signature under pop", "pop", [pk], [b"hello"], sig))
    # Sign(sks[i], b"hello") under each scheme, for signing to be checked byte for byte.
    signatures = {
        scheme: [hx(cls.Sign(sk, b"hello")) for sk in sks] for scheme, cls in SCHEMES.items()
    }
    print(
        json.dumps(
            {
                "secret_keys": [hx(sk.to_bytes(32, "big")) for sk in sks],
                "signatures_of_hello": signatures,
                "cases": cases,
            },
            indent=1,
        )
    )


main()
