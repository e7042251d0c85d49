#!/usr/bin/env python3
"""RFC 9162 test vectors for veribatch, made by pymerkle (an independent implementation
of RFC 9162's trees, from PyPI):

    python3 -m venv /tmp/pm && /tmp/pm/bin/pip install pymerkle==7.0.0
    /tmp/pm/bin/python generate.py

writes, beside this script:
- leaves.txt: the leaves, one per line as hex of their data (what `veribatch log` reads);
- heads.json: pymerkle's tree head of the first n leaves, for every n;
- inclusion.ndjson: inclusion proofs in veribatch's record format, the path taken from
  pymerkle's proof (its path is the leaf hash followed by RFC 9162's audit path, and its
  indices count from 1); each proof verified by pymerkle first;
- consistency.ndjson: consistency records whose heads come from pymerkle (its own
  consistency proof between them verified by pymerkle); pymerkle's consistency proofs are
  in a format of its own, so the path is RFC 9162 §2.1.4.1's PROOF written out below.
"""
import hashlib
import json
import os

import pymerkle
from pymerkle import InmemoryTree, verify_consistency, verify_inclusion

assert pymerkle.__version__ == "7.0.0", pymerkle.__version__
HERE = os.path.dirname(os.path.abspath(__file__))


def leaf_data(i):
    # Empty, short and long leaves, some alike in their first bytes.
    return bytes((i * 7 + j) % 256 for j in range((i * 13) % 70 if i % 9 else 0))


def sha(b):
    return hashlib.sha256(b).digest()


def mth(d):
    if not d:
        return sha(b"")
    if len(d) == 1:
        return sha(b"\x00" + d[0])
    k = 1
    while 2 * k < len(d):
        k *= 2
    return sha(b"\x01" + mth(d[:k]) + mth(d[k:]))


def subproof(m, d, b):
    n = len(d)
    if m == n:
        return [] if b else [mth(d)]
    k = 1
    while 2 * k < n:
        k *= 2
    if m <= k:
        return subproof(m, d[:k], b) + [mth(d[k:])]
    return subproof(m - k, d[k:], False) + [mth(d[:k])]


def hx(b):
    return "0x" + b.hex()


N = 70
leaves = [leaf_data(i) for i in range(N)]
tree = InmemoryTree(algorithm="sha256")
for leaf in leaves:
    tree.append_entry(leaf)

with open(os.path.join(HERE, "leaves.txt"), "w") as f:
    f.writelines(hx(leaf) + "\n" for leaf in leaves)

heads = [{"size": 0, "root": hx(sha(b""))}]
heads += [{"size": n, "root": hx(tree.get_root(n))} for n in range(1, N + 1)]
with open(os.path.join(HERE, "heads.json"), "w") as f:
    json.dump(heads, f, indent=0)
    f.write("\n")

sizes = list(range(1, 18)) + [31, 32, 33, 64, 70]
with open(os.path.join(HERE, "inclusion.ndjson"), "w") as f:
    for n in sizes:
        root = tree.get_root(n)
        for m in range(n):
            proof = tree.prove_inclusion(m + 1, n)
            base = tree.get_leaf(m + 1)
            verify_inclusion(base, root, proof)
            assert proof.path[0] == sha(b"\x00" + leaves[m])
            record = {"type": "inclusion", "size": n, "root": hx(root), "index": m,
                      "leaf": hx(leaves[m]), "path": [hx(p) for p in proof.path[1:]]}
            f.write(json.dumps(record, separators=(",", ":")) + "\n")

with open(os.path.join(HERE, "consistency.ndjson"), "w") as f:
    for n in sizes:
        for m in range(1, n):
            old, new = tree.get_root(m), tree.get_root(n)
            verify_consistency(old, new, tree.prove_consistency(m, n))
            record = {"type": "consistency", "old_size": m, "old_root": hx(old), "size": n,
                      "root": hx(new), "path": [hx(p) for p in subproof(m, leaves[:n], True)]}
            f.write(json.dumps(record, separators=(",", ":")) + "\n")
