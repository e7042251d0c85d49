//! Transparency-log trees (RFC 9162): the engine against the RFC's definitions written
//! plainly here, against pymerkle's heads and proofs (tests/vectors/rfc9162, made by its
//! generate.py), and `veribatch log` as a process.

mod common;

use std::collections::BTreeMap;
use std::io::Cursor;

use common::process::{scratch, stderr, stdout, veribatch, veribatch_with_stdin};
use serde_json::Value;
use sha2::{Digest, Sha256};
use veribatch_engine::backend::cpu::CpuBackend;
use veribatch_engine::merkle::TreeHash;
use veribatch_engine::transparency_log::{
    ConsistencyProof, Hash, InclusionProof, LeafLines, LogProof, Prover, TreeHead, record,
    verify_all, verify_consistency, verify_inclusion,
};

// RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1, as written there, with SHA-256 (sha2) or SM3
// (RustCrypto's sm3) as HASH.

fn sha256(parts: &[&[u8]]) -> Hash {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hash_of(hash: TreeHash, parts: &[&[u8]]) -> Hash {
    match hash {
        TreeHash::Sha256 => sha256(parts),
        TreeHash::Sm3 => {
            use sm3::Digest as _;
            let mut h = sm3::Sm3::new();
            for p in parts {
                h.update(p);
            }
            h.finalize().into()
        }
    }
}

/// The largest power of two smaller than n (n > 1).
fn k(n: usize) -> usize {
    let mut k = 1;
    while 2 * k < n {
        k *= 2;
    }
    k
}

fn mth_with(h: TreeHash, d: &[Vec<u8>]) -> Hash {
    match d.len() {
        0 => hash_of(h, &[]),
        1 => hash_of(h, &[&[0], &d[0]]),
        n => hash_of(
            h,
            &[&[1], &mth_with(h, &d[..k(n)]), &mth_with(h, &d[k(n)..])],
        ),
    }
}

fn mth(d: &[Vec<u8>]) -> Hash {
    mth_with(TreeHash::Sha256, d)
}

fn path(h: TreeHash, m: usize, d: &[Vec<u8>]) -> Vec<Hash> {
    let n = d.len();
    if n == 1 {
        return vec![];
    }
    let k = k(n);
    if m < k {
        [path(h, m, &d[..k]), vec![mth_with(h, &d[k..])]].concat()
    } else {
        [path(h, m - k, &d[k..]), vec![mth_with(h, &d[..k])]].concat()
    }
}

fn subproof(h: TreeHash, m: usize, d: &[Vec<u8>], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth_with(h, d)] };
    }
    let k = k(n);
    if m <= k {
        [subproof(h, m, &d[..k], b), vec![mth_with(h, &d[k..])]].concat()
    } else {
        [
            subproof(h, m - k, &d[k..], false),
            vec![mth_with(h, &d[..k])],
        ]
        .concat()
    }
}

fn leaves(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i as u8; i % 5]).collect()
}

fn as_text(d: &[Vec<u8>]) -> String {
    d.iter()
        .map(|l| format!("0x{}\n", hex::encode(l)))
        .collect()
}

/// Runs `prover` over `text`'s leaves in batches of `batch`, their leaf hashes made by
/// `hash` (the prover's).
fn prove_with(
    hash: TreeHash,
    mut prover: Prover,
    text: &str,
    size: Option<u64>,
    batch: usize,
) -> Prover {
    let mut lines = LeafLines::new(Cursor::new(text.to_owned()), size, batch);
    loop {
        let b = lines.next_batch(&CpuBackend::new(), hash).unwrap();
        if b.is_empty() {
            return prover;
        }
        prover.add(&CpuBackend::new(), &b);
    }
}

fn prove(prover: Prover, text: &str, size: Option<u64>, batch: usize) -> Prover {
    prove_with(TreeHash::Sha256, prover, text, size, batch)
}

fn head_with(hash: TreeHash, text: &str, size: Option<u64>) -> Hash {
    let mut lines = LeafLines::new(Cursor::new(text.to_owned()), size, 7);
    let mut head = TreeHead::with_hash(hash);
    loop {
        let b = lines.next_batch(&CpuBackend::new(), hash).unwrap();
        if b.is_empty() {
            return head.root();
        }
        head.extend(&CpuBackend::new(), &b.hashes);
    }
}

fn head(text: &str, size: Option<u64>) -> Hash {
    head_with(TreeHash::Sha256, text, size)
}

/// Heads, inclusion and consistency proofs of every tree of up to 45 leaves are the
/// RFC's definitions, with SHA-256 and with SM3 in its place; each proof verifies, and
/// not under the other hash.
#[test]
fn heads_and_proofs_are_the_rfc_definitions() {
    let d = leaves(45);
    let text = as_text(&d);
    for h in TreeHash::ALL {
        let other = if h == TreeHash::Sha256 {
            TreeHash::Sm3
        } else {
            TreeHash::Sha256
        };
        for n in 0..=d.len() {
            let root = mth_with(h, &d[..n]);
            assert_eq!(
                head_with(h, &text, Some(n as u64)),
                root,
                "{h}: head of {n}"
            );
            for m in 0..n {
                // The size given, or taken from the end of the leaves.
                for (size, batch) in [(Some(n as u64), 4), (None, 1 << 10)] {
                    let upto = as_text(&d[..n]);
                    let prover = Prover::inclusion(h, m as u64, size).unwrap();
                    let (proof, leaf) = prove_with(h, prover, &upto, size, batch)
                        .finish_inclusion()
                        .unwrap();
                    assert_eq!(proof.path, path(h, m, &d[..n]), "{h}: leaf {m} of {n}");
                    assert_eq!((proof.root, leaf), (root, d[m].clone()));
                    assert!(verify_inclusion(&proof), "{h}: leaf {m} of {n}");
                    // With no path, the leaf's hash is the head under any hash.
                    let as_other = InclusionProof {
                        hash: other,
                        ..proof
                    };
                    let passes = verify_inclusion(&as_other);
                    assert_eq!(passes, n == 1, "{h}: leaf {m} of {n} as {other}");
                }
            }
            for m in 1..n {
                let prover = Prover::consistency(h, m as u64, Some(n as u64)).unwrap();
                let proof = prove_with(h, prover, &text, Some(n as u64), 3)
                    .finish_consistency()
                    .unwrap();
                assert_eq!(proof.path, subproof(h, m, &d[..n], true), "{h}: {m} to {n}");
                assert_eq!((proof.old_root, proof.root), (mth_with(h, &d[..m]), root));
                assert!(verify_consistency(&proof), "{h}: {m} to {n}");
                let as_other = ConsistencyProof {
                    hash: other,
                    ..proof
                };
                assert!(!verify_consistency(&as_other), "{h}: {m} to {n}");
            }
        }
    }
}

#[test]
fn impossible_proofs_are_refused() {
    let text = as_text(&leaves(5));
    let sha = TreeHash::Sha256;
    let e = Prover::inclusion(sha, 5, Some(5)).unwrap_err();
    assert_eq!(e.to_string(), "the tree has 5 leaves: there is no leaf 5");
    let e = prove(Prover::inclusion(sha, 7, None).unwrap(), &text, None, 2)
        .finish_inclusion()
        .unwrap_err();
    assert_eq!(e.to_string(), "the tree has 5 leaves: there is no leaf 7");
    let e = prove(
        Prover::consistency(sha, 2, Some(9)).unwrap(),
        &text,
        Some(9),
        2,
    )
    .finish_consistency()
    .unwrap_err();
    assert_eq!(e.to_string(), "the leaves end after 5, short of the size 9");
    let e = prove(Prover::consistency(sha, 6, None).unwrap(), &text, None, 2)
        .finish_consistency()
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "the old size 6 is larger than the tree's size 5"
    );
}

/// Every way of changing a valid proof by a little: each must fail. Not the tree's size
/// alone: a path can have the same shape in a tree of the next size (leaf 0 of 3 and of
/// 4), and the RFC's algorithm then accepts it for both, rightly (the head of the one
/// tree cannot be the head of a tree of the other size without a SHA-256 collision).
fn tampered(proof: &LogProof) -> Vec<(String, LogProof)> {
    let mut out = Vec::new();
    let flip = |h: &Hash, bit: usize| {
        let mut h = *h;
        h[bit / 8] ^= 1 << (bit % 8);
        h
    };
    match proof {
        LogProof::Inclusion(p) => {
            let mut with = |what: String, f: &dyn Fn(&mut InclusionProof)| {
                let mut q = p.clone();
                f(&mut q);
                out.push((what, LogProof::Inclusion(q)));
            };
            with("root".into(), &|q| q.root = flip(&q.root, 3));
            with("leaf".into(), &|q| q.leaf_hash = flip(&q.leaf_hash, 255));
            with("index + 1".into(), &|q| q.index += 1);
            if p.index > 0 {
                with("index - 1".into(), &|q| q.index -= 1);
            }
            with("a node more".into(), &|q| q.path.push([0; 32]));
            with("index + size".into(), &|q| q.index += q.size);
            for i in 0..p.path.len() {
                with(format!("path[{i}]"), &|q| q.path[i] = flip(&q.path[i], 100));
                with(format!("without path[{i}]"), &|q| {
                    q.path.remove(i);
                });
            }
        }
        LogProof::Consistency(p) => {
            let mut with = |what: String, f: &dyn Fn(&mut ConsistencyProof)| {
                let mut q = p.clone();
                f(&mut q);
                out.push((what, LogProof::Consistency(q)));
            };
            with("root".into(), &|q| q.root = flip(&q.root, 0));
            with("old root".into(), &|q| q.old_root = flip(&q.old_root, 77));
            with("swapped roots".into(), &|q| {
                std::mem::swap(&mut q.root, &mut q.old_root)
            });
            with("old size + 1".into(), &|q| q.old_size += 1);
            with("old size - 1".into(), &|q| q.old_size -= 1);
            with("a node more".into(), &|q| q.path.push([0; 32]));
            with("no path".into(), &|q| q.path.clear());
            for i in 0..p.path.len() {
                with(format!("path[{i}]"), &|q| q.path[i] = flip(&q.path[i], 200));
                with(format!("without path[{i}]"), &|q| {
                    q.path.remove(i);
                });
            }
        }
    }
    out
}

fn vector_records(name: &str) -> Vec<(String, LogProof)> {
    let text = std::fs::read_to_string(common::vectors().join("rfc9162").join(name)).unwrap();
    text.lines()
        .map(|line| {
            let record = serde_json::from_str(line).unwrap();
            let proof = record::from_json(&record, TreeHash::Sha256).unwrap();
            (line.to_string(), proof)
        })
        .collect()
}

fn vector_leaves() -> String {
    std::fs::read_to_string(common::vectors().join("rfc9162/leaves.txt")).unwrap()
}

/// On the engine under test (in CI's second pass a GPU backend with every primitive
/// forced onto it and strict device checks), tree heads of leaves of many lengths, in one
/// call and read from text in batches, are the RFC's.
#[test]
fn the_engine_under_test_computes_the_rfc_heads() {
    let engine = common::engine();
    let d: Vec<Vec<u8>> = (0..5000usize)
        .map(|i| vec![(i * 7) as u8; i % 131])
        .collect();
    for n in [0, 1, 2, 3, 64, 65, 1000, 4096, 5000] {
        for h in TreeHash::ALL {
            let want = mth_with(h, &d[..n]);
            assert_eq!(engine.log_tree_head(h, &d[..n]), want, "{h}: {n} leaves");
        }
    }
    let text = as_text(&d);
    for h in TreeHash::ALL {
        let mut lines = LeafLines::new(Cursor::new(text.clone()), None, 1024);
        let mut head = TreeHead::with_hash(h);
        loop {
            let batch = engine.next_log_leaves(&mut lines, h).unwrap();
            if batch.is_empty() {
                break;
            }
            engine.extend_log_head(&mut head, &batch.hashes);
        }
        assert_eq!(head.root(), mth_with(h, &d), "{h}");
    }
}

#[test]
fn pymerkle_heads_are_ours() {
    let text = vector_leaves();
    let heads: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(common::vectors().join("rfc9162/heads.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(heads.len(), 71);
    for h in heads {
        let size = h["size"].as_u64().unwrap();
        assert_eq!(
            format!("0x{}", hex::encode(head(&text, Some(size)))),
            h["root"].as_str().unwrap(),
            "head of {size}"
        );
    }
}

#[test]
fn pymerkle_proofs_verify_and_are_what_we_prove() {
    let text = vector_leaves();
    let inclusion = vector_records("inclusion.ndjson");
    let consistency = vector_records("consistency.ndjson");
    assert_eq!((inclusion.len(), consistency.len()), (383, 361));
    for (line, proof) in inclusion.iter().chain(&consistency) {
        let ours = match proof {
            LogProof::Inclusion(p) => {
                let (mine, leaf) = prove(
                    Prover::inclusion(TreeHash::Sha256, p.index, Some(p.size)).unwrap(),
                    &text,
                    Some(p.size),
                    16,
                )
                .finish_inclusion()
                .unwrap();
                record::inclusion_line(&mine, &leaf)
            }
            LogProof::Consistency(p) => record::consistency_line(
                &prove(
                    Prover::consistency(TreeHash::Sha256, p.old_size, Some(p.size)).unwrap(),
                    &text,
                    Some(p.size),
                    16,
                )
                .finish_consistency()
                .unwrap(),
            ),
        };
        assert_eq!(&ours, line, "the record we write is pymerkle's");
    }
    let proofs: Vec<LogProof> = inclusion
        .iter()
        .chain(&consistency)
        .map(|(_, p)| p.clone())
        .collect();
    assert!(verify_all(&proofs).into_iter().all(|v| v));
    // Every small change to any of them is caught.
    let mut changed = Vec::new();
    for proof in &proofs {
        changed.extend(tampered(proof));
    }
    assert!(changed.len() > 5000);
    let verdicts = verify_all(&changed.iter().map(|(_, p)| p.clone()).collect::<Vec<_>>());
    for ((what, proof), valid) in changed.iter().zip(verdicts) {
        assert!(!valid, "{what} of {proof:?} passed");
    }
}

#[test]
fn proofs_outside_the_rfc_ranges_are_only_the_trivial_ones() {
    let d = leaves(5);
    let (root, empty) = (mth(&d), mth(&[]));
    let consistency = |old_size, old_root, size, root, path: Vec<Hash>| {
        verify_consistency(&ConsistencyProof {
            hash: TreeHash::Sha256,
            old_size,
            old_root,
            size,
            root,
            path,
        })
    };
    // A tree is consistent with itself, by an empty proof only.
    assert!(consistency(5, root, 5, root, vec![]));
    assert!(!consistency(5, root, 5, root, vec![root]));
    assert!(!consistency(5, mth(&d[..4]), 5, root, vec![]));
    // Every tree extends the empty one, whose head is SHA-256 of nothing.
    assert!(consistency(0, empty, 5, root, vec![]));
    assert!(!consistency(0, root, 5, root, vec![]));
    // A larger old tree never.
    assert!(!consistency(6, root, 5, root, vec![]));
    // No leaf is in the empty tree, nor beyond the size.
    let inclusion = |index, size, path: Vec<Hash>| {
        verify_inclusion(&InclusionProof {
            hash: TreeHash::Sha256,
            size,
            index,
            leaf_hash: sha256(&[&[0], &d[0]]),
            path,
            root: mth(&d[..1]),
        })
    };
    assert!(inclusion(0, 1, vec![]));
    assert!(!inclusion(0, 0, vec![]));
    assert!(!inclusion(1, 1, vec![]));
}

// `veribatch log` as a process.

fn leaves_file(dir: &std::path::Path) -> String {
    let path = dir.join("leaves.txt");
    std::fs::write(&path, vector_leaves()).unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn log_root_prints_the_head_of_a_file_or_stdin() {
    let dir = scratch("log-root");
    let file = leaves_file(&dir);
    let heads: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(common::vectors().join("rfc9162/heads.json")).unwrap(),
    )
    .unwrap();
    let all = veribatch(&["log", "root", &file]);
    assert_eq!(all.status.code(), Some(0), "{}", stderr(&all));
    assert_eq!(stdout(&all).trim(), heads[70]["root"]);
    let some = veribatch(&["log", "root", "--size", "33", &file]);
    assert_eq!(stdout(&some).trim(), heads[33]["root"]);
    let piped = veribatch_with_stdin(&["log", "root", "--size", "0", "-"], b"");
    assert_eq!(stdout(&piped).trim(), heads[0]["root"]);
    let piped = veribatch_with_stdin(&["log", "root", "-"], vector_leaves().as_bytes());
    assert_eq!(stdout(&piped).trim(), heads[70]["root"]);

    let short = veribatch(&["log", "root", "--size", "71", &file]);
    assert_eq!(short.status.code(), Some(2));
    assert!(
        stderr(&short).contains("has 70 leaves, fewer than --size 71"),
        "{}",
        stderr(&short)
    );
    let bad = veribatch_with_stdin(&["log", "root", "-"], b"0x00\n0x0g\n");
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("-: line 2: bad hex"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn log_prove_writes_the_records_pymerkle_agrees_with() {
    let dir = scratch("log-prove");
    let file = leaves_file(&dir);
    let lines: BTreeMap<_, _> = vector_records("inclusion.ndjson")
        .into_iter()
        .chain(vector_records("consistency.ndjson"))
        .map(|(line, proof)| {
            let key = match proof {
                LogProof::Inclusion(p) => ("index", p.index, p.size),
                LogProof::Consistency(p) => ("old-size", p.old_size, p.size),
            };
            (key, line)
        })
        .collect();
    for key in [
        ("index", 0, 1),
        ("index", 12, 13),
        ("index", 40, 70),
        ("old-size", 3, 7),
        ("old-size", 32, 33),
        ("old-size", 31, 70),
    ] {
        let (flag, value, size) = key;
        let out = veribatch(&[
            "log",
            "prove",
            &format!("--{flag}"),
            &value.to_string(),
            "--size",
            &size.to_string(),
            &file,
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        assert_eq!(stdout(&out).trim_end(), lines[&key], "{key:?}");
    }
    // Without --size: the whole file.
    let out = veribatch(&["log", "prove", "--index", "40", &file]);
    assert_eq!(stdout(&out).trim_end(), lines[&("index", 40, 70)]);

    let out = veribatch(&["log", "prove", "--index", "70", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("there is no leaf 70"),
        "{}",
        stderr(&out)
    );
    let out = veribatch(&["log", "prove", "--old-size", "9", "--size", "8", &file]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("old size 9 is larger"),
        "{}",
        stderr(&out)
    );
    let out = veribatch(&["log", "prove", &file]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--index or --old-size is required"
    );
}

#[test]
fn log_verify_gives_one_verdict_per_record_in_order() {
    let dir = scratch("log-verify");
    let valid: Vec<String> = vector_records("inclusion.ndjson")
        .into_iter()
        .take(3)
        .chain(
            vector_records("consistency.ndjson")
                .into_iter()
                .skip(100)
                .take(2),
        )
        .map(|(line, _)| line)
        .collect();
    let mut wrong: Value = serde_json::from_str(&valid[1]).unwrap();
    wrong["index"] = 5.into();
    let text = [
        valid[0].clone(),
        wrong.to_string(),
        "{not json".into(),
        valid[3].clone(),
        r#"{"type":"inclusion","size":1}"#.into(),
        valid[4].clone(),
    ]
    .join("\n");
    let file = dir.join("proofs.ndjson");
    std::fs::write(&file, text).unwrap();
    let out_file = dir.join("verdicts.ndjson");
    let out = veribatch(&[
        "log",
        "verify",
        "--output",
        out_file.to_str().unwrap(),
        file.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let verdicts: Vec<Value> = std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let verdict: Vec<bool> = verdicts
        .iter()
        .map(|v| v["valid"].as_bool().unwrap())
        .collect();
    assert_eq!(verdict, [true, false, false, true, false, true]);
    assert!(
        verdicts[1]["error"].is_null(),
        "a wrong index is invalid, not malformed"
    );
    assert!(
        verdicts[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("not valid JSON")
    );
    assert_eq!(verdicts[4]["error"], r#"missing field "index""#);
    assert!(
        stderr(&out).contains("6 proofs: 3 valid, 1 invalid, 2 malformed"),
        "{}",
        stderr(&out)
    );

    let all_valid = veribatch_with_stdin(&["log", "verify", "-"], valid[0].as_bytes());
    assert_eq!(all_valid.status.code(), Some(0), "{}", stderr(&all_valid));
    let empty = veribatch_with_stdin(&["log", "verify", "-"], b"");
    assert_eq!(empty.status.code(), Some(2));
}

/// `--hash sm3`: `log root` prints the SM3 tree's head, `log prove` writes records that
/// say `"hash":"sm3"`, and `log verify` takes the hash from the record, or from
/// `--hash` for records that name none.
#[test]
fn log_commands_take_hash_sm3() {
    let dir = scratch("log-sm3");
    let file = leaves_file(&dir);
    let d = vector_leaf_data();
    let sm3 = TreeHash::Sm3;
    let hex_of = |h: Hash| format!("0x{}", hex::encode(h));
    let root = veribatch(&["log", "root", "--hash", "sm3", "--size", "33", &file]);
    assert_eq!(root.status.code(), Some(0), "{}", stderr(&root));
    assert_eq!(stdout(&root).trim(), hex_of(mth_with(sm3, &d[..33])));
    assert_ne!(mth_with(sm3, &d[..33]), mth(&d[..33]));

    let inclusion = veribatch(&["log", "prove", "--hash", "sm3", "--index", "20", &file]);
    assert_eq!(inclusion.status.code(), Some(0), "{}", stderr(&inclusion));
    let record: Value = serde_json::from_str(&stdout(&inclusion)).unwrap();
    assert_eq!(record["hash"], "sm3");
    assert_eq!(record["root"], hex_of(mth_with(sm3, &d)));
    let path: Vec<String> = path(sm3, 20, &d).into_iter().map(hex_of).collect();
    assert_eq!(record["path"], serde_json::json!(path));
    let consistency = veribatch(&[
        "log",
        "prove",
        "--hash",
        "sm3",
        "--old-size",
        "13",
        "--size",
        "50",
        &file,
    ]);
    assert_eq!(
        consistency.status.code(),
        Some(0),
        "{}",
        stderr(&consistency)
    );
    let consistency: Value = serde_json::from_str(&stdout(&consistency)).unwrap();
    assert_eq!(
        consistency["path"],
        serde_json::json!(
            subproof(sm3, 13, &d[..50], true)
                .into_iter()
                .map(hex_of)
                .collect::<Vec<_>>()
        )
    );

    // The records name their hash; without it they are SHA-256's unless --hash says.
    let mut unnamed = record.clone();
    unnamed.as_object_mut().unwrap().remove("hash");
    let text = [
        record.to_string(),
        consistency.to_string(),
        unnamed.to_string(),
    ]
    .join("\n");
    let verdicts = |args: &[&str]| -> Vec<bool> {
        let out = veribatch_with_stdin(
            &[&["log", "verify"], args, &["-"]].concat(),
            text.as_bytes(),
        );
        stdout(&out)
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()["valid"]
                    .as_bool()
                    .unwrap()
            })
            .collect()
    };
    assert_eq!(verdicts(&[]), [true, true, false]);
    assert_eq!(verdicts(&["--hash", "sm3"]), [true, true, true]);
    // --hash is a requirement: records of another tree are malformed.
    let out = veribatch_with_stdin(&["log", "verify", "--hash", "sha256", "-"], text.as_bytes());
    let lines: Vec<Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0]["error"],
        "hash: the record's tree is sm3, --hash asks for sha256"
    );
    assert_eq!(lines[2]["valid"], false);
    let bad = veribatch_with_stdin(
        &["log", "verify", "-"],
        br#"{"type":"inclusion","hash":"md5"}"#,
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stdout(&bad).contains("hash: unknown hash"),
        "{}",
        stdout(&bad)
    );
}

// The service: LogRoot and VerifyLogProofs on a real `veribatch serve`.

fn vector_heads() -> Vec<Value> {
    serde_json::from_str(
        &std::fs::read_to_string(common::vectors().join("rfc9162/heads.json")).unwrap(),
    )
    .unwrap()
}

fn vector_leaf_data() -> Vec<Vec<u8>> {
    vector_leaves()
        .lines()
        .map(|l| hex::decode(&l[2..]).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_service_gives_the_heads_and_verdicts_of_the_engine() {
    use veribatch_service::proto;
    let server = common::server::Server::start(&[]);
    let mut client = server.client().await;
    let heads = vector_heads();
    let head = |n: usize| heads[n]["root"].as_str().unwrap().to_string();

    let leaves = vector_leaf_data();
    let (root, size) = client
        .log_root(TreeHash::Sha256, leaves.clone(), None)
        .await
        .unwrap();
    assert_eq!((format!("0x{}", hex::encode(root)), size), (head(70), 70));
    let (root, size) = client
        .log_root(TreeHash::Sha256, leaves.clone(), Some(33))
        .await
        .unwrap();
    assert_eq!((format!("0x{}", hex::encode(root)), size), (head(33), 33));
    let (root, _) = client
        .log_root(TreeHash::Sha256, Vec::new(), None)
        .await
        .unwrap();
    assert_eq!(format!("0x{}", hex::encode(root)), head(0));
    let e = client
        .log_root(TreeHash::Sha256, leaves[..3].to_vec(), Some(4))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("size: 4, but 3 leaves were sent"),
        "{e}"
    );

    let mut proofs: Vec<LogProof> = vector_records("inclusion.ndjson")
        .into_iter()
        .chain(vector_records("consistency.ndjson"))
        .map(|(_, p)| p)
        .collect();
    let mut bad = proofs[100].clone();
    if let LogProof::Inclusion(p) = &mut bad {
        p.root[0] ^= 1;
    }
    proofs.push(bad);
    let verdicts = client.verify_log_proofs(&proofs).await.unwrap();
    assert_eq!(verdicts.len(), 745);
    assert!(verdicts[..744].iter().all(|v| *v == Ok(true)));
    assert_eq!(verdicts[744], Ok(false));

    // Malformed proofs get verdicts naming the part; the others are verified.
    let mut short_node: proto::LogProof = proofs[300].clone().into();
    if let Some(proto::log_proof::Proof::Inclusion(p)) = &mut short_node.proof {
        p.path[1].pop();
    }
    let request = proto::VerifyLogProofsRequest {
        proofs: vec![
            proofs[0].clone().into(),
            short_node,
            proto::LogProof { proof: None },
        ],
        ..Default::default()
    };
    let r = client
        .inner()
        .verify_log_proofs(request)
        .await
        .unwrap()
        .into_inner();
    assert!(r.verdicts[0].valid);
    let malformed = r.verdicts[1].malformed.clone().unwrap();
    assert_eq!(
        (malformed.field.as_str(), malformed.index, malformed.code()),
        ("path", Some(1), proto::InputErrorCode::Length)
    );
    assert_eq!(r.verdicts[1].error, "path[1]: expected 32 bytes, got 31");
    assert_eq!(
        r.verdicts[2].malformed.clone().unwrap().code(),
        proto::InputErrorCode::Missing
    );

    // A path longer than any limit is refused before any work.
    let mut long: proto::LogProof = proofs[0].clone().into();
    if let Some(proto::log_proof::Proof::Inclusion(p)) = &mut long.proof {
        p.path = vec![vec![0; 32]; (1 << 20) + 1];
    }
    let e = client
        .inner()
        .verify_log_proofs(proto::VerifyLogProofsRequest {
            proofs: vec![long],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().contains("proofs[0]: 1048577 path nodes"),
        "{}",
        e.message()
    );

    // SM3 trees: heads, and proofs mixed with SHA-256 ones (a request each, verdicts in
    // order); an unknown hash is refused.
    let d = vector_leaf_data();
    let (root, _) = client
        .log_root(TreeHash::Sm3, d.clone(), Some(40))
        .await
        .unwrap();
    assert_eq!(root, mth_with(TreeHash::Sm3, &d[..40]));
    let text = as_text(&d);
    let sm3_proof = |m: u64| {
        let prover = Prover::inclusion(TreeHash::Sm3, m, None).unwrap();
        let (proof, _) = prove_with(TreeHash::Sm3, prover, &text, None, 16)
            .finish_inclusion()
            .unwrap();
        LogProof::Inclusion(proof)
    };
    let mut wrong = sm3_proof(9);
    if let LogProof::Inclusion(p) = &mut wrong {
        p.hash = TreeHash::Sha256;
    }
    let mixed = vec![
        sm3_proof(3),
        proofs[0].clone(),
        wrong,
        sm3_proof(69),
        proofs[1].clone(),
    ];
    let verdicts = client.verify_log_proofs(&mixed).await.unwrap();
    assert_eq!(
        verdicts,
        [Ok(true), Ok(true), Ok(false), Ok(true), Ok(true)]
    );
    let e = client
        .inner()
        .log_root(proto::LogRootRequest {
            leaves: d.clone(),
            hash: 7,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(e.message().starts_with("hash"), "{}", e.message());

    // The CLI through the service prints what it prints alone.
    let dir = scratch("log-remote");
    let file = leaves_file(&dir);
    let url = server.url();
    let out = veribatch(&["log", "root", "--remote", &url, "--size", "12", &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), head(12));
    let proofs = common::vectors().join("rfc9162/consistency.ndjson");
    let remote = veribatch(&["log", "verify", "--remote", &url, proofs.to_str().unwrap()]);
    let local = veribatch(&["log", "verify", proofs.to_str().unwrap()]);
    assert_eq!(remote.status.code(), Some(0), "{}", stderr(&remote));
    assert_eq!(stdout(&remote), stdout(&local));
    let out = veribatch(&["log", "root", "--hash", "sm3", "--remote", &url, &file]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        format!("0x{}", hex::encode(mth_with(TreeHash::Sm3, &d)))
    );
}

/// Inputs of more records than one window (8,192): verdicts stay in input order, a JSON
/// array streams as NDJSON does, a line that is not UTF-8 is one malformed record, and an
/// array that breaks off ends the command after the verdicts of the records before it.
#[test]
fn record_files_stream_in_windows() {
    let dir = scratch("log-windows");
    let records: Vec<String> = vector_records("inclusion.ndjson")
        .into_iter()
        .map(|(line, _)| line)
        .cycle()
        .take(9_000)
        .collect();
    let mut wrong: Value = serde_json::from_str(&records[8_500]).unwrap();
    wrong["root"] = Value::String(format!("0x{}", "11".repeat(32)));
    let mut lines = records.clone();
    lines[8_500] = wrong.to_string();
    let verdicts_of = |out: &std::process::Output| -> Vec<Value> {
        stdout(out)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };

    let ndjson = dir.join("proofs.ndjson");
    let mut text = lines.join("\n").into_bytes();
    text.extend_from_slice(b"\n\xff\xfe\n");
    text.extend_from_slice(records[0].as_bytes());
    std::fs::write(&ndjson, &text).unwrap();
    let out = veribatch(&["log", "verify", ndjson.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let verdicts = verdicts_of(&out);
    assert_eq!(verdicts.len(), 9_002);
    for (i, v) in verdicts.iter().enumerate() {
        assert_eq!(v["index"], i);
        assert_eq!(v["valid"], i != 8_500 && i != 9_000, "record {i}: {v}");
    }
    assert!(verdicts[8_500]["error"].is_null());
    assert!(
        verdicts[9_000]["error"]
            .as_str()
            .unwrap()
            .starts_with("not UTF-8")
    );

    let array = dir.join("proofs.json");
    std::fs::write(&array, format!("[\n{}\n]", lines.join(",\n"))).unwrap();
    let out = veribatch(&["log", "verify", array.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let verdicts = verdicts_of(&out);
    assert_eq!(verdicts.len(), 9_000);
    assert_eq!(verdicts[8_500]["valid"], false);

    let broken = dir.join("broken.json");
    std::fs::write(
        &broken,
        format!("[{},{{\"type\":", lines[..8_200].join(",")),
    )
    .unwrap();
    let out = veribatch(&["log", "verify", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("not a valid JSON array"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        verdicts_of(&out).len(),
        8_200,
        "every record before the break has its verdict"
    );
}
