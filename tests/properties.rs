//! Property tests (proptest) on the engine under test (VERIBATCH_TEST_BACKEND: ci/test.sh
//! runs them again with every GPU primitive on wgpu):
//! - for random mixes of valid, invalid and malformed signature sets under every scheme,
//!   the batch verdicts equal the verdicts of verifying each set alone;
//! - Merkle multi-proofs of random trees and index sets verify, and stop verifying when any
//!   byte of a leaf or helper, or any generalized index, changes.

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use veribatch_engine::Engine;
use veribatch_engine::bls::{Ciphersuite, Scheme, SignatureSet};
use veribatch_engine::merkle::verify_multiproof;

fn engine() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(common::engine)
}

fn suite(scheme: Scheme) -> Ciphersuite {
    let dst = format!(
        "BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_{}",
        match scheme {
            Scheme::Basic => "NUL_",
            Scheme::MessageAugmentation => "AUG_",
            Scheme::ProofOfPossession => "POP_",
        }
    );
    Ciphersuite::new(dst.into_bytes(), None).unwrap()
}

/// How one generated set is made, and spoiled.
#[derive(Clone, Debug)]
struct SetSpec {
    /// Signers (secret key seeds) and the message index each signs.
    signers: Vec<(u8, u8)>,
    /// One message for all signers (FastAggregateVerify shape) instead of one each.
    one_message: bool,
    spoil: Spoil,
}

#[derive(Clone, Copy, Debug)]
enum Spoil {
    None,
    /// Another message than the one signed.
    WrongMessage,
    /// A signature byte flipped (usually not a point: malformed).
    SignatureByte(usize),
    /// A key byte flipped.
    KeyByte(usize),
    /// The signature of a different set of signers.
    DropSigner,
}

fn set_spec() -> impl Strategy<Value = SetSpec> {
    (
        prop::collection::vec((1u8..40, 0u8..6), 1..5),
        any::<bool>(),
        prop_oneof![
            5 => Just(Spoil::None),
            1 => Just(Spoil::WrongMessage),
            1 => (0usize..96).prop_map(Spoil::SignatureByte),
            1 => (0usize..48).prop_map(Spoil::KeyByte),
            1 => Just(Spoil::DropSigner),
        ],
    )
        .prop_map(|(signers, one_message, spoil)| SetSpec {
            signers,
            one_message,
            spoil,
        })
}

fn secret(seed: u8) -> [u8; 32] {
    let mut sk = [3u8; 32];
    sk[31] = seed;
    sk
}

/// The set `spec` describes, signed under `suite`.
fn make_set(spec: &SetSpec, suite: &Ciphersuite) -> SignatureSet {
    let e = engine();
    let message = |i: u8| format!("message {i}").into_bytes();
    let messages: Vec<Vec<u8>> = if spec.one_message {
        vec![message(spec.signers[0].1)]
    } else {
        spec.signers.iter().map(|&(_, m)| message(m)).collect()
    };
    let signing = match spec.spoil {
        Spoil::DropSigner if spec.signers.len() > 1 => &spec.signers[1..],
        _ => &spec.signers[..],
    };
    let signatures: Vec<[u8; 96]> = signing
        .iter()
        .map(|&(seed, m)| {
            let m = if spec.one_message {
                spec.signers[0].1
            } else {
                m
            };
            e.sign(&secret(seed), &message(m), suite).unwrap()
        })
        .collect();
    let mut set = SignatureSet {
        signature: e.aggregate_signatures(&signatures).unwrap().to_vec(),
        public_keys: spec
            .signers
            .iter()
            .map(|&(seed, _)| e.public_key(&secret(seed)).unwrap().to_vec())
            .collect(),
        messages,
    };
    match spec.spoil {
        Spoil::WrongMessage => set.messages[0].push(b'!'),
        Spoil::SignatureByte(i) => set.signature[i] ^= 0x01,
        Spoil::KeyByte(i) => set.public_keys[0][i] ^= 0x01,
        Spoil::None | Spoil::DropSigner => {}
    }
    set
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn batch_verdicts_equal_single_verdicts(
        specs in prop::collection::vec(set_spec(), 1..10),
        scheme in prop_oneof![
            Just(Scheme::Basic),
            Just(Scheme::MessageAugmentation),
            Just(Scheme::ProofOfPossession),
        ],
    ) {
        let suite = suite(scheme);
        let sets: Vec<SignatureSet> = specs.iter().map(|s| make_set(s, &suite)).collect();
        let batch = engine().verify_signature_sets(&sets, &suite);
        prop_assert_eq!(batch.len(), sets.len());
        for (i, set) in sets.iter().enumerate() {
            let alone = engine().verify_signature_sets(std::slice::from_ref(set), &suite);
            prop_assert_eq!(&batch[i], &alone[0], "set {} of {:?}", i, specs[i]);
            // An unspoiled set is valid, except under the basic scheme where its messages
            // repeat (or one message serves several keys): that is an error naming it.
            let mut messages = set.messages.clone();
            messages.sort();
            messages.dedup();
            let distinct = messages.len() == set.public_keys.len();
            if matches!(specs[i].spoil, Spoil::None) {
                if scheme != Scheme::Basic || distinct {
                    prop_assert_eq!(&alone[0], &Ok(true), "an unspoiled set fails: {:?}", specs[i]);
                } else {
                    prop_assert!(alone[0].is_err(), "repeated messages under basic: {:?}", specs[i]);
                }
            }
        }
    }

    #[test]
    fn multiproofs_verify_and_fail_when_anything_changes(
        chunk_count in 1usize..300,
        seed in any::<u64>(),
        limit_extra in prop::option::of(0u64..600),
        mix_in in any::<bool>(),
        picks in prop::collection::vec(any::<prop::sample::Index>(), 1..6),
        mutate in any::<prop::sample::Index>(),
    ) {
        let mut rng = veribatch_testkit::Rng::new(seed);
        let chunks = veribatch_testkit::chunks(chunk_count, &mut rng);
        let limit = limit_extra.map(|extra| chunk_count as u64 + extra);
        let mix = mix_in.then_some(chunk_count as u64);
        let tree = engine().merkle_tree(&chunks, limit, mix).unwrap();
        let mut indices: Vec<u64> = picks.iter().map(|p| p.index(chunk_count) as u64).collect();
        indices.sort_unstable();
        indices.dedup();
        let proof = tree.prove(&indices).unwrap();
        prop_assert_eq!(proof.root, engine().merkle_root(&chunks, limit, mix).unwrap());
        let helpers: Vec<[u8; 32]> = proof.helpers.iter().map(|(_, n)| *n).collect();
        prop_assert_eq!(verify_multiproof(&proof.leaves, &helpers, &proof.root), Ok(true));

        // One byte of a leaf or of a helper changed.
        let nodes = proof.leaves.len() + helpers.len();
        let which = mutate.index(nodes * 32);
        let (mut leaves, mut helpers2) = (proof.leaves.clone(), helpers.clone());
        let (node, byte) = (which / 32, which % 32);
        if node < leaves.len() {
            leaves[node].1[byte] ^= 0x80;
        } else {
            helpers2[node - leaves.len()][byte] ^= 0x80;
        }
        prop_assert_ne!(verify_multiproof(&leaves, &helpers2, &proof.root), Ok(true));

        // A generalized index moved to its sibling, or one level down.
        let mut moved = proof.leaves.clone();
        let k = mutate.index(moved.len());
        moved[k].0 ^= 1;
        prop_assert_ne!(verify_multiproof(&moved, &helpers, &proof.root), Ok(true));
        let mut deeper = proof.leaves.clone();
        deeper[k].0 *= 2;
        prop_assert_ne!(verify_multiproof(&deeper, &helpers, &proof.root), Ok(true));
    }
}
