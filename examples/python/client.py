#!/usr/bin/env python3
"""Example veribatch client: calls the Verifier service and checks its answers.

Usage: python client.py HOST:PORT

Exits 0 when every check passed, 1 otherwise.
"""
import json
import os
import subprocess
import sys

import grpc

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.dirname(HERE)
GENERATED = os.path.join(HERE, "generated")

EXPECTED_CHUNKS_ROOT = "f5973a9a8e133364696d28af8011c3c2fe92f0175019e099ea262ccdd095926c"


def load_stubs():
    """Imports the generated stubs, generating them first if they are missing."""
    if not os.path.exists(os.path.join(GENERATED, "veribatch", "v1", "verifier_pb2_grpc.py")):
        # Same interpreter as this script, so the venv's grpc_tools is used.
        env = dict(os.environ, PYTHON=sys.executable)
        subprocess.run(["bash", os.path.join(HERE, "generate.sh")], check=True, env=env)
    sys.path.insert(0, GENERATED)
    from veribatch.v1 import verifier_pb2, verifier_pb2_grpc

    return verifier_pb2, verifier_pb2_grpc


pb, pb_grpc = load_stubs()

failures = []


def check(name, ok, detail=""):
    print(f"  [{'ok' if ok else 'FAIL'}] {name}" + (f": {detail}" if detail and not ok else ""))
    if not ok:
        failures.append(name)


def hex_bytes(s):
    return bytes.fromhex(s[2:] if s.startswith("0x") else s)


def read_sets(path):
    sets = []
    with open(path) as f:
        for line in f:
            if line.strip():
                d = json.loads(line)
                sets.append(
                    pb.SignatureSet(
                        signature=hex_bytes(d["signature"]),
                        public_keys=[hex_bytes(k) for k in d["pubkeys"]],
                        messages=[hex_bytes(m) for m in d["messages"]],
                    )
                )
    return sets


def verify_file(stub, name, expect):
    """expect(index, verdict) returns None when the verdict is right, else what is wrong."""
    sets = read_sets(os.path.join(EXAMPLES, name))
    resp = stub.VerifySignatures(pb.VerifySignaturesRequest(sets=sets))
    print(f"VerifySignatures {name}: {len(sets)} sets")
    check(f"{name}: one verdict per set", len(resp.verdicts) == len(sets), f"{len(resp.verdicts)} verdicts")
    for i, v in enumerate(resp.verdicts):
        check(f"{name} set {i}: valid={v.valid} error={v.error!r}", expect(i, v) is None, expect(i, v))


def expect_valid(_, v):
    if not v.valid or v.error:
        return "want valid with no error"


def expect_attestations(i, v):
    if i == 4:
        if v.valid or "signature" not in v.error:
            return "want invalid with an error naming the signature"
    elif i == 7:
        if v.valid or v.error:
            return "want invalid with no error"
    else:
        return expect_valid(i, v)


def groth16_inputs(path):
    with open(path) as f:
        return [int(x).to_bytes(32, "big") for x in json.load(f)]


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    channel = grpc.insecure_channel(sys.argv[1])
    stub = pb_grpc.VerifierStub(channel)

    # GetInfo: version and the backend the engine uses.
    info = stub.GetInfo(pb.GetInfoRequest(), timeout=10)
    selected = [b.name for b in info.backends if b.selected]
    print(f"GetInfo: version {info.version}, backend {', '.join(selected) or '(none)'}")
    check("GetInfo: one backend selected", len(selected) == 1, f"selected {selected}")

    # BLS signature sets.
    verify_file(stub, "valid.ndjson", expect_valid)
    verify_file(stub, "attestations.ndjson", expect_attestations)

    # SSZ Merkle root of chunks.bin (no limit, no length mix-in).
    with open(os.path.join(EXAMPLES, "chunks.bin"), "rb") as f:
        chunks = f.read()
    root = stub.MerkleRoot(pb.MerkleRootRequest(chunks=chunks)).root.hex()
    print(f"MerkleRoot chunks.bin ({len(chunks) // 32} chunks): 0x{root}")
    check("MerkleRoot of chunks.bin", root == EXPECTED_CHUNKS_ROOT, f"want 0x{EXPECTED_CHUNKS_ROOT}")

    # 33 bytes are not whole chunks: the request as a whole is refused.
    try:
        stub.MerkleRoot(pb.MerkleRootRequest(chunks=bytes(33)))
        print("MerkleRoot 33 bytes: succeeded")
        check("MerkleRoot of 33 bytes fails with INVALID_ARGUMENT", False, "it succeeded")
    except grpc.RpcError as e:
        print(f"MerkleRoot 33 bytes: {e.code().name}: {e.details()}")
        check(
            "MerkleRoot of 33 bytes fails with INVALID_ARGUMENT",
            e.code() == grpc.StatusCode.INVALID_ARGUMENT,
            f"got {e.code().name}",
        )

    # Groth16: register the snarkjs key, then verify a proof against two sets of inputs.
    g16 = os.path.join(EXAMPLES, "groth16")
    with open(os.path.join(g16, "verification_key.json"), "rb") as f:
        vk = f.read()
    reg = stub.RegisterVerifyingKey(
        pb.RegisterVerifyingKeyRequest(verifying_key=vk, format=pb.KEY_FORMAT_SNARKJS_JSON)
    )
    print(f"RegisterVerifyingKey: key id 0x{reg.key_id.hex()}, {reg.public_inputs} public inputs")
    with open(os.path.join(g16, "proof_0.json"), "rb") as f:
        proof = f.read()
    for public, want in (("public_0.json", True), ("public_1.json", False)):
        inputs = groth16_inputs(os.path.join(g16, public))
        resp = stub.VerifyGroth16(
            pb.VerifyGroth16Request(
                key_id=reg.key_id, proofs=[pb.Groth16Proof(proof=proof, public_inputs=inputs)]
            )
        )
        got = ", ".join(f"valid={v.valid} error={v.error!r}" for v in resp.verdicts)
        print(f"VerifyGroth16 proof_0.json with {public}: {got or 'no verdict'}")
        check(
            f"VerifyGroth16 with {public} is {'valid' if want else 'invalid'}",
            len(resp.verdicts) == 1 and resp.verdicts[0].valid == want and not resp.verdicts[0].error,
            f"want one verdict, valid={want} with no error",
        )

    if failures:
        print(f"FAILED {len(failures)} check(s): {'; '.join(failures)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as e:  # an unexpected failure of a call: the server is down, say
        print(f"FAILED: call failed with {e.code().name}: {e.details()}")
        sys.exit(1)
