#!/usr/bin/env python3
"""Writes fuzz/seeds/TARGET/ from the project's conformance vectors and examples (run from
the repository root: `python3 fuzz/make_seeds.py`). The seeds are committed; ci/fuzz.sh
copies them into a working corpus, so CI needs no Python."""
import glob
import hashlib
import json
import os


def write(target, data):
    folder = os.path.join("fuzz", "seeds", target)
    os.makedirs(folder, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(number, payload):
    """A length-delimited protobuf field."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


vectors = "tests/vectors/bls/ethereum-v0.1.2"
for path in glob.glob(f"{vectors}/deserialization_G*/*.json"):
    case = json.load(open(path))["input"]
    value = case.get("pubkey") or case.get("signature")
    try:
        write("points", bytes.fromhex(value))
    except ValueError:
        write("points", value.encode())

sets = []
for line in open("examples/attestations.ndjson"):
    if line.strip():
        sets.append(json.loads(line))
for path in glob.glob(f"{vectors}/*verify/*.json"):
    case = json.load(open(path))["input"]
    keys = case.get("pubkeys") or ([case["pubkey"]] if "pubkey" in case else None)
    msgs = case.get("messages") or ([case["message"]] if "message" in case else None)
    if keys is not None and msgs is not None and "signature" in case:
        sets.append({"signature": case["signature"], "pubkeys": keys, "messages": msgs})
for i, s in enumerate(sets):
    write("signature_set_json", bytes([i % 4]) + json.dumps(s).encode())


def unhex(s):
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


for i, s in enumerate(sets[:12]):
    try:
        set_msg = field(1, unhex(s["signature"]))
        set_msg += b"".join(field(2, unhex(k)) for k in s["pubkeys"])
        set_msg += b"".join(field(3, unhex(m)) for m in s["messages"])
    except ValueError:
        continue
    request = field(1, set_msg)
    # VerifyStreamRequest { id: 1, verify_signatures: … }
    write("proto_requests", b"\x08\x01" + field(2, request))
chunks = open("examples/chunks.bin", "rb").read()
write("proto_requests", b"\x08\x02" + field(4, field(1, chunks[:32 * 9])))
write("proto_requests", field(1, open("examples/groth16/verification_key.json", "rb").read()))

groth = "engine/vectors/groth16/snarkjs"
for name in ["verification_key.json", "proof_0.json", "proof_1.json", "public_0.json"]:
    write("groth16_json", open(os.path.join(groth, name), "rb").read())
write("groth16_json", open("examples/groth16/verification_key.json", "rb").read())

# Binary seeds: a tiny arkworks-shaped key is made by the engine's own tests; here the
# lengths the detector knows (344 + 48k arkworks, 868 + 96k bellman) and 192-byte proofs.
write("groth16_binary", bytes(344 + 48))
write("groth16_binary", bytes(868 + 96))
write("groth16_binary", bytes([0xC0]) + bytes(47) + bytes([0xC0]) + bytes(95) + bytes([0xC0]) + bytes(47))

proof_file = {
    "root": "0x" + "11" * 32,
    "leaves": [{"index": 3, "gindex": 259, "leaf": "0x" + "22" * 32}],
    "proof": ["0x" + "33" * 32] * 8,
    "helper_gindices": [258, 128, 65, 33, 17, 9, 5, 3],
}
write("merkle_proof_file", bytes([8]) + json.dumps(proof_file).encode())

# SM2: records of tests/vectors/sm2 (made by OpenSSL), their keys and signatures alone.
for line in open("tests/vectors/sm2/openssl.ndjson").read().splitlines()[:40:4]:
    record = json.loads(line)
    write("sm2", line.encode())
    write("sm2", bytes.fromhex(record["public_key"][2:]))
    write("sm2", bytes.fromhex(record["signature"][2:]))

# The serve configuration: the example file, each of its lines alone, and a TLS setting.
config = open("examples/serve.toml", "rb").read()
write("serve_config", config)
for line in config.splitlines():
    if line and not line.startswith(b"#"):
        write("serve_config", line + b"\n")
write("serve_config", b'tls_cert = "cert.pem"\ntls_key = "key.pem"\ntls_client_ca = "ca.pem"\n')

# A real proof, if the CLI is built (cargo build): 3 chunks of a 128-limit list with its
# length mixed in, so chunks lie at depth 8.
binary = "target/debug/veribatch"
if os.path.exists(binary):
    import subprocess

    out = subprocess.run(
        [binary, "merkle", "prove", "--index", "3,50,99", "--limit", "128", "--mix-in-length",
         "examples/chunks.bin"],
        check=True, capture_output=True,
    ).stdout
    write("merkle_proof_file", bytes([8]) + out)

# Binary Groth16 seeds: the snarkjs fixture key and proofs in arkworks' compressed layout
# (alpha ‖ beta ‖ gamma ‖ delta ‖ IC count, u64 little-endian ‖ IC; proofs A ‖ B ‖ C),
# compressed by py_ecc the way zcash and blst write BLS12-381 points.
try:
    from py_ecc.bls.g2_primitives import G1_to_pubkey, G2_to_signature
    from py_ecc.optimized_bls12_381 import FQ, FQ2

    def g1(p):
        return G1_to_pubkey((FQ(int(p[0])), FQ(int(p[1])), FQ(int(p[2]))))

    def g2(p):
        return G2_to_signature(tuple(FQ2([int(c[0]), int(c[1])]) for c in p))

    vk = json.load(open(os.path.join(groth, "verification_key.json")))
    key = g1(vk["vk_alpha_1"]) + g2(vk["vk_beta_2"]) + g2(vk["vk_gamma_2"]) + g2(vk["vk_delta_2"])
    key += len(vk["IC"]).to_bytes(8, "little") + b"".join(g1(p) for p in vk["IC"])
    write("groth16_binary", key)
    write("proto_requests", field(1, key) + b"\x10\x02")
    for i in range(2):
        proof = json.load(open(os.path.join(groth, f"proof_{i}.json")))
        write("groth16_binary", g1(proof["pi_a"]) + g2(proof["pi_b"]) + g1(proof["pi_c"]))
except ImportError:
    print("py_ecc not installed: no binary Groth16 seeds")
