//! Every RPC's request message (the oneof of VerifyStreamRequest), decoded from protobuf
//! bytes and converted into engine inputs the way the service does, then run on the CPU
//! engine: no panic, one verdict per item, signature sets' batch verdicts equal to their
//! single ones, and Merkle roots equal to the root of the whole tree.
#![no_main]

use libfuzzer_sys::fuzz_target;
use prost::Message;
use veribatch_engine::ProofInput;
use veribatch_engine::bls::SignatureSet;
use veribatch_engine::merkle::{mixed_length, multiproof_verdict};
use veribatch_engine::sm2::Sm2Item;
use veribatch_engine::transparency_log;
use veribatch_service::convert;
use veribatch_service::proto::verify_stream_request::Request;
use veribatch_service::proto::{RegisterVerifyingKeyRequest, VerifyStreamRequest};

/// Items run per request: enough to mix good and bad ones, few enough for speed.
const MAX_ITEMS: usize = 8;

fuzz_target!(|data: &[u8]| {
    let engine = veribatch_fuzz::engine();
    if let Ok(r) = RegisterVerifyingKeyRequest::decode(data)
        && let Ok(format) = convert::key_format(r.format)
        && let Ok(key) = engine.register_groth16_key(&r.verifying_key, format)
    {
        assert_eq!(
            engine.groth16_key(key.id()).map(|k| *k.id()),
            Some(*key.id())
        );
    }
    let Ok(message) = VerifyStreamRequest::decode(data) else {
        return;
    };
    match message.request {
        Some(Request::VerifySignatures(r)) => {
            let Ok(suite) = convert::ciphersuite(r.dst, r.scheme) else {
                return;
            };
            let mut sets = r
                .sets
                .into_iter()
                .map(Into::into)
                .collect::<Vec<SignatureSet>>();
            sets.truncate(MAX_ITEMS);
            veribatch_fuzz::batch_equals_singles(&sets, &suite);
        }
        Some(Request::VerifyGroth16(r)) => {
            let Ok(id) = <[u8; 32]>::try_from(r.key_id.as_slice()) else {
                return;
            };
            let Some(key) = engine.groth16_key(&id) else {
                return;
            };
            let mut proofs = r
                .proofs
                .into_iter()
                .map(Into::into)
                .collect::<Vec<ProofInput>>();
            proofs.truncate(MAX_ITEMS);
            assert_eq!(engine.verify_groth16(&key, &proofs).len(), proofs.len());
        }
        Some(Request::MerkleRoot(r)) => {
            if r.chunks.len() > 1 << 16 {
                return;
            }
            let Ok(hash) = convert::tree_hash(r.hash) else {
                return;
            };
            let limit = (r.limit != 0).then_some(r.limit);
            let mix = mixed_length((r.chunks.len() / 32) as u64, r.mix_in_length, r.length);
            // Two code paths: the streaming root and the whole tree kept for proofs.
            let root = engine.merkle_root_with(hash, &r.chunks, limit, mix);
            let tree = engine
                .merkle_tree_with(hash, &r.chunks, limit, mix)
                .map(|t| t.root());
            assert_eq!(root, tree, "root and tree disagree");
        }
        Some(Request::VerifyMerkleProofs(r)) => {
            let Ok(hash) = convert::tree_hash(r.hash) else {
                return;
            };
            for proof in r.proofs.iter().take(MAX_ITEMS) {
                let _ = multiproof_verdict(
                    hash,
                    &proof.root,
                    &proof.gindices,
                    &proof.leaves,
                    &proof.proof,
                );
            }
        }
        Some(Request::LogRoot(r)) => {
            let Ok(hash) = convert::tree_hash(r.hash) else {
                return;
            };
            // Two code paths: the batched head and one leaf at a time.
            let leaves = &r.leaves[..r.leaves.len().min(256)];
            let mut one_by_one = transparency_log::TreeHead::with_hash(hash);
            for leaf in leaves {
                one_by_one.push(hash.log_leaf(leaf));
            }
            assert_eq!(
                transparency_log::tree_head_of(
                    &veribatch_engine::backend::cpu::CpuBackend::new(),
                    hash,
                    leaves
                ),
                one_by_one.root()
            );
        }
        Some(Request::VerifyLogProofs(r)) => {
            let Ok(hash) = convert::tree_hash(r.hash) else {
                return;
            };
            let proofs: Vec<_> = r
                .proofs
                .into_iter()
                .take(MAX_ITEMS)
                .map(|p| veribatch_service::proto::log_proof(p, hash))
                .collect();
            let verdicts = transparency_log::verdicts(&proofs);
            assert_eq!(verdicts.len(), proofs.len());
        }
        Some(Request::VerifySm2(r)) => {
            let items: Vec<Sm2Item> = r
                .signatures
                .into_iter()
                .take(MAX_ITEMS)
                .map(Into::into)
                .collect();
            for item in &items {
                let wire: veribatch_service::proto::Sm2Signature = item.clone().into();
                assert_eq!(&Sm2Item::from(wire), item, "proto round trip");
            }
            assert_eq!(engine.verify_sm2(&items).len(), items.len());
        }
        Some(Request::AggregateSignatures(r)) => {
            let _ = engine.aggregate_signatures(&r.signatures[..r.signatures.len().min(64)]);
        }
        Some(Request::AggregatePublicKeys(r)) => {
            let _ = engine.aggregate_public_keys(&r.public_keys[..r.public_keys.len().min(64)]);
        }
        None => {}
    }
});
