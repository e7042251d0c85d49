//! What one request may cost, checked before any work starts.
//!
//! A request's size in bytes says little about its cost: one signature set of 20,000
//! keys is 1.2 MB and takes seconds, one Merkle proof of deep generalized indices is a
//! few megabytes and needs millions of nodes. So each request is measured in the units
//! its verification costs (public keys and messages of signature sets, leaves and helper
//! nodes of Merkle proofs, the bytes and IC points of Groth16 keys), from counts that
//! are read off the request without decoding a point or hashing a node, and refused
//! with INVALID_ARGUMENT naming the limit when it exceeds one.

use tonic::Status;

use veribatch_engine::merkle::TreeHash;
use veribatch_engine::scheduler::cost;

use crate::proto;

/// Limits enforced per request. The defaults fit Ethereum's traffic with room to spare
/// (its largest committee is 2,048 validators, the sync committee 512).
#[derive(Clone, Debug)]
pub struct RequestLimits {
    /// Most items (sets, proofs, signatures, keys, Merkle proofs) in one request.
    pub max_items: usize,
    /// Largest message, in bytes (reported by GetInfo; enforced by the server).
    pub max_message_bytes: usize,
    /// Requests of one VerifyStream being worked on at once; the stream is not read
    /// further until one finishes.
    pub stream_concurrency: usize,
    /// Most public keys in one signature set.
    pub max_keys_per_set: usize,
    /// Most messages in one signature set.
    pub max_messages_per_set: usize,
    /// Most cost units in one request: a signature set costs its public keys plus its
    /// messages (one hash to the curve each, one pairing per message); a Merkle proof
    /// its leaves plus its helper nodes (one hash each).
    pub max_cost_per_request: u64,
    /// Most leaves in one Merkle proof.
    pub max_leaves_per_proof: usize,
    /// Most helper nodes in one Merkle proof.
    pub max_nodes_per_proof: usize,
    /// Largest Groth16 verifying key, in bytes.
    pub max_key_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_items: 1 << 16,
            max_message_bytes: 64 << 20,
            stream_concurrency: 256,
            max_keys_per_set: 4096,
            max_messages_per_set: 4096,
            max_cost_per_request: 1 << 18,
            max_leaves_per_proof: 1 << 16,
            max_nodes_per_proof: 1 << 20,
            max_key_bytes: 4 << 20,
        }
    }
}

impl RequestLimits {
    /// The largest `VerifyMerkleProofs` message the other limits allow (at most
    /// `max_message_bytes`), so that a larger one is refused from its 5-byte gRPC
    /// header, before it is read: a request of 400,000 leaves is 17 MB, and reading and
    /// decoding it only to refuse it cost a well-behaved caller's p99 more than 2×.
    ///
    /// Encoded, a proof is at most its own tag and length (5 bytes), its root (34) and
    /// the tag and length of its packed generalized indices (5): 48 with room; each leaf
    /// or helper node is a tag, a length and 32 bytes (34), and each leaf's generalized
    /// index at most 11 bytes (a tag and a 10-byte varint, if not packed): 46 per cost
    /// unit with room. Items of the wrong length are refused either way. The bound is of
    /// the canonical encoding (what protobuf encoders write); one padded with redundant
    /// varint bytes may exceed it.
    pub fn max_merkle_proofs_message_bytes(&self) -> usize {
        let bound = (self.max_items.saturating_mul(48))
            .saturating_add((self.max_cost_per_request as usize).saturating_mul(46));
        bound.min(self.max_message_bytes)
    }

    /// `n` items in the request's `field`.
    pub fn check_items(&self, field: &str, n: usize) -> Result<(), Status> {
        if n > self.max_items {
            return Err(Status::invalid_argument(format!(
                "{field}: {n} items exceed the limit of {} per request",
                self.max_items
            )));
        }
        Ok(())
    }

    /// The cost of verifying `sets`, if every set and the whole are within the limits.
    pub fn check_signature_sets(&self, sets: &[proto::SignatureSet]) -> Result<u64, Status> {
        self.check_items("sets", sets.len())?;
        let mut cost = 0u64;
        for (i, set) in sets.iter().enumerate() {
            let (keys, messages) = (set.public_keys.len(), set.messages.len());
            if keys > self.max_keys_per_set {
                return Err(Status::invalid_argument(format!(
                    "sets[{i}]: {keys} public keys; at most {} per set",
                    self.max_keys_per_set
                )));
            }
            if messages > self.max_messages_per_set {
                return Err(Status::invalid_argument(format!(
                    "sets[{i}]: {messages} messages; at most {} per set",
                    self.max_messages_per_set
                )));
            }
            cost += cost::signature_set(keys, messages);
        }
        self.check_cost(cost)
    }

    /// The cost of verifying `proofs`, if every proof and the whole are within the
    /// limits.
    pub fn check_merkle_proofs(&self, proofs: &[proto::MerkleProof]) -> Result<u64, Status> {
        self.check_items("proofs", proofs.len())?;
        let mut cost = 0u64;
        for (i, proof) in proofs.iter().enumerate() {
            let (leaves, nodes) = (
                proof.gindices.len().max(proof.leaves.len()),
                proof.proof.len(),
            );
            if leaves > self.max_leaves_per_proof {
                return Err(Status::invalid_argument(format!(
                    "proofs[{i}]: {leaves} leaves; at most {} per proof",
                    self.max_leaves_per_proof
                )));
            }
            if nodes > self.max_nodes_per_proof {
                return Err(Status::invalid_argument(format!(
                    "proofs[{i}]: {nodes} helper nodes; at most {} per proof",
                    self.max_nodes_per_proof
                )));
            }
            cost += cost::merkle_proof(leaves, nodes);
        }
        self.check_cost(cost)
    }

    /// The cost of verifying SM2 `signatures` ([`cost::sm2_signature`]), each ID within
    /// the standard's 8191 bytes (a longer one is refused here, before any work).
    pub fn check_sm2(&self, signatures: &[proto::Sm2Signature]) -> Result<u64, Status> {
        use proto::sm2_signature::Signed;
        self.check_items("signatures", signatures.len())?;
        let mut cost = 0u64;
        for (i, signature) in signatures.iter().enumerate() {
            if let Some(id) = &signature.id
                && id.len() > veribatch_engine::sm2::MAX_ID_BYTES
            {
                return Err(Status::invalid_argument(format!(
                    "signatures[{i}].id: {} bytes; at most {}",
                    id.len(),
                    veribatch_engine::sm2::MAX_ID_BYTES
                )));
            }
            let signed = match &signature.signed {
                Some(Signed::Message(m) | Signed::Digest(m)) => m.len(),
                None => 0,
            };
            let bytes = signature.public_key.len()
                + signed
                + signature.signature.len()
                + signature.id.as_ref().map_or(0, Vec::len);
            cost += cost::sm2_signature(bytes);
        }
        self.check_cost(cost)
    }

    /// The cost of a transparency-log tree head of `leaves` ([`cost::log_root`]).
    pub fn check_log_root(&self, leaves: &[Vec<u8>], hash: TreeHash) -> Result<u64, Status> {
        let bytes = leaves.iter().map(Vec::len).sum();
        self.check_cost(cost::log_root(hash, leaves.len(), bytes))
    }

    /// The cost of verifying RFC 9162 `proofs`: a hash per path node, each path within
    /// the helper-node limit of a Merkle proof, and the hashing of leaves given as data.
    pub fn check_log_proofs(
        &self,
        proofs: &[proto::LogProof],
        hash: TreeHash,
    ) -> Result<u64, Status> {
        use proto::log_inclusion_proof::LeafValue;
        use proto::log_proof::Proof;
        self.check_items("proofs", proofs.len())?;
        let mut cost = 0u64;
        for (i, proof) in proofs.iter().enumerate() {
            let (nodes, leaf_bytes) = match &proof.proof {
                Some(Proof::Inclusion(p)) => match &p.leaf_value {
                    Some(LeafValue::Leaf(data)) => (p.path.len(), data.len()),
                    _ => (p.path.len(), 0),
                },
                Some(Proof::Consistency(p)) => (p.path.len(), 0),
                None => (0, 0),
            };
            if nodes > self.max_nodes_per_proof {
                return Err(Status::invalid_argument(format!(
                    "proofs[{i}]: {nodes} path nodes; at most {} per proof",
                    self.max_nodes_per_proof
                )));
            }
            cost += cost::log_proof(hash, nodes, leaf_bytes);
        }
        self.check_cost(cost)
    }

    /// The cost of verifying `proofs`: a pairing and a multiplication per public input.
    pub fn check_groth16(&self, proofs: &[proto::Groth16Proof]) -> Result<u64, Status> {
        self.check_items("proofs", proofs.len())?;
        self.check_cost(
            proofs
                .iter()
                .map(|p| cost::groth16_proof(p.public_inputs.len()))
                .sum(),
        )
    }

    /// The cost of a Merkle root of `chunk_bytes` bytes ([`cost::merkle_root`]).
    pub fn check_merkle_root(&self, chunk_bytes: usize, hash: TreeHash) -> Result<u64, Status> {
        self.check_cost(cost::tree_root(hash, chunk_bytes / 32))
    }

    /// A Groth16 key of `bytes` bytes (its IC points are bounded by the engine).
    pub fn check_key(&self, bytes: usize) -> Result<(), Status> {
        if bytes > self.max_key_bytes {
            return Err(Status::invalid_argument(format!(
                "verifying_key: {bytes} bytes; at most {} per key",
                self.max_key_bytes
            )));
        }
        Ok(())
    }

    fn check_cost(&self, cost: u64) -> Result<u64, Status> {
        if cost > self.max_cost_per_request {
            return Err(Status::invalid_argument(format!(
                "the request costs {cost} units (public keys and messages, or leaves and \
                 helper nodes); at most {} per request: split it",
                self.max_cost_per_request
            )));
        }
        Ok(cost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every request the item and cost limits allow, at its largest encoding (leaves and
    /// nodes of 32 bytes, generalized indices of 10-byte varints), fits the message bound.
    #[test]
    fn the_merkle_message_bound_admits_every_request_within_the_limits() {
        use prost::Message;
        let limits = RequestLimits {
            max_items: 8,
            max_cost_per_request: 200,
            ..RequestLimits::default()
        };
        let proof = |leaves: usize, helpers: usize| proto::MerkleProof {
            root: vec![0xff; 32],
            gindices: vec![u64::MAX; leaves],
            leaves: vec![vec![0xff; 32]; leaves],
            proof: vec![vec![0xff; 32]; helpers],
        };
        let shapes: [Vec<proto::MerkleProof>; 4] = [
            vec![proof(200, 0)],
            vec![proof(0, 200)],
            (0..8).map(|_| proof(25, 0)).collect(),
            (0..8).map(|i| proof(i, 25 - i)).collect(),
        ];
        for proofs in shapes {
            let request = proto::VerifyMerkleProofsRequest {
                proofs,
                ..Default::default()
            };
            assert!(limits.check_merkle_proofs(&request.proofs).is_ok());
            let len = request.encoded_len();
            let bound = limits.max_merkle_proofs_message_bytes();
            assert!(len <= bound, "{len} bytes over the bound of {bound}");
        }
    }

    fn set(keys: usize, messages: usize) -> proto::SignatureSet {
        proto::SignatureSet {
            signature: vec![0; 96],
            public_keys: vec![vec![0; 48]; keys],
            messages: vec![vec![0; 32]; messages],
        }
    }

    #[test]
    fn each_limit_is_named_when_exceeded() {
        let limits = RequestLimits {
            max_cost_per_request: 100,
            ..RequestLimits::default()
        };
        assert_eq!(
            limits
                .check_signature_sets(&[set(3, 3), set(2, 1)])
                .unwrap(),
            9
        );
        let error = |r: Result<u64, Status>| r.unwrap_err().message().to_string();
        let many_keys = error(limits.check_signature_sets(&[set(1, 1), set(5000, 1)]));
        assert!(
            many_keys.contains("sets[1]: 5000 public keys; at most 4096"),
            "{many_keys}"
        );
        let many_messages = error(limits.check_signature_sets(&[set(1, 4097)]));
        assert!(many_messages.contains("4097 messages"), "{many_messages}");
        let costly = error(limits.check_signature_sets(&vec![set(30, 30); 2]));
        assert!(
            costly.contains("costs 120 units") && costly.contains("at most 100"),
            "{costly}"
        );
        let deep = proto::MerkleProof {
            gindices: vec![1; 70_000],
            ..Default::default()
        };
        let leaves = error(RequestLimits::default().check_merkle_proofs(&[deep]));
        assert!(leaves.contains("proofs[0]: 70000 leaves"), "{leaves}");
        assert!(error(limits.check_key(5 << 20).map(|()| 0)).contains("bytes; at most"));
        let signature = |id: Option<usize>, message: usize| proto::Sm2Signature {
            id: id.map(|n| vec![b'a'; n]),
            signed: Some(proto::sm2_signature::Signed::Message(vec![0; message])),
            ..Default::default()
        };
        assert_eq!(
            limits
                .check_sm2(&[signature(Some(8191), 0), signature(None, 0)])
                .unwrap(),
            3
        );
        let long_id = error(limits.check_sm2(&[signature(None, 0), signature(Some(8192), 0)]));
        assert!(
            long_id.contains("signatures[1].id: 8192 bytes"),
            "{long_id}"
        );
        // A long message pays for its SM3.
        let long_message = error(limits.check_sm2(&[signature(None, 4 << 20)]));
        assert!(long_message.contains("at most 100"), "{long_message}");
    }
}
