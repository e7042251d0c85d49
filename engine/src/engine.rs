//! [`Engine`]: the entry point of the library, one per process.

use std::sync::Arc;

use rayon::prelude::*;

use crate::backend::{self, Backend, BackendChoice};
use crate::batch;
use crate::bls::{self, Ciphersuite, DecodedSet, PublicKeyCache, Scheme, SignatureSet};
use crate::curves::bls12_381 as points;
use crate::error::{ErrorKind, Field, InputError, Verdict};
use crate::groth16::{
    self, DegenerateKeys, KeyFormat, KeyId, KeyRegistry, KeyStore, PreparedKey, PublicInput,
    verify::Statement,
};
use crate::merkle::{self, MerkleError, Node, Tree};
use crate::sm2::{SignerCache, Sm2Item};
use crate::transparency_log::{self, LeafBatch, LeafError, LeafLines, Prover, TreeHead};

/// How an [`Engine`] is set up.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    pub backend: BackendChoice,
    /// Smallest inputs sent to a GPU under `BackendChoice::Auto`.
    pub gpu_thresholds: backend::Thresholds,
    /// Validated public keys kept in memory (about 200 bytes each); 0 disables the cache.
    pub public_key_cache: usize,
    /// SM2 signers (a validated key, its precomputed multiples and its Z for one ID)
    /// kept in memory, about 700 bytes each; 0 disables the cache.
    pub sm2_signer_cache: usize,
    /// SM2 signers that may hold a fixed-base table of their key at once (32 KiB each),
    /// given to those used most.
    pub sm2_key_tables: usize,
    /// Prepared Groth16 keys kept in memory.
    pub groth16_keys: usize,
    /// Most IC points (public inputs + 1) a Groth16 key may have: each is validated on
    /// registration, so this bounds what a key costs before any is.
    pub max_ic_points: usize,
    /// Whether Groth16 keys that let anyone forge proofs are refused (the default).
    pub degenerate_groth16_keys: DegenerateKeys,
    /// How a GPU's answers are spot-checked (and, in tests, spoiled on purpose).
    pub device_checks: backend::DeviceChecks,
    /// Where registered Groth16 keys are kept on disk, if anywhere: a key id not in
    /// memory is looked for there ([`Engine::groth16_key`]).
    pub groth16_key_store: Option<Arc<KeyStore>>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            backend: BackendChoice::Auto,
            gpu_thresholds: backend::Thresholds::default(),
            public_key_cache: 1 << 20,
            sm2_signer_cache: 1 << 16,
            sm2_key_tables: 2048,
            groth16_keys: 1024,
            max_ic_points: 1 << 16,
            degenerate_groth16_keys: DegenerateKeys::Refuse,
            device_checks: backend::DeviceChecks::default(),
            groth16_key_store: None,
        }
    }
}

/// A Groth16 proof as received: the proof in any supported format, the public inputs as
/// 32-byte big-endian integers below r.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ProofInput {
    pub proof: Vec<u8>,
    pub public_inputs: Vec<Vec<u8>>,
}

/// Verifies BLS signatures, Merkle trees and Groth16 proofs on the chosen backend.
pub struct Engine {
    config: EngineConfig,
    backend: Arc<dyn Backend>,
    /// Shared with [`Engine::on_cpu`]'s twin: validated keys are the same on every backend.
    public_keys: Arc<PublicKeyCache>,
    groth16_keys: Arc<KeyRegistry>,
    sm2_signers: Arc<SignerCache>,
}

/// Told about a batch while the engine verifies it.
pub trait Progress: Sync {
    /// Item `index`'s verdict (by its index in the request or batch the engine was
    /// given), as soon as it is known; every item exactly once.
    fn decided(&self, index: usize, verdict: &Verdict);
    /// The batch failed its combined check and the search for its invalid items begins:
    /// on the pool returned, or on the current one
    /// ([`crate::batch::Listener::searching`]).
    fn searching(&self) -> Option<&rayon::ThreadPool> {
        None
    }
}

/// Progress that nobody follows.
pub struct Unfollowed;

impl Progress for Unfollowed {
    fn decided(&self, _: usize, _: &Verdict) {}
}

/// Runs `verify` on the items that decoded and merges its verdicts with the decoding
/// errors, in the original order. `Ok(None)` is an item that decoded but is certainly
/// invalid. Decoding verdicts are reported at once, the others as `verify` reports them.
/// `groups` (lengths of runs of items that belong together, over all items) are passed to
/// `verify` as the lengths of the same runs over the decoded items.
fn verify_decoded<T>(
    decoded: Vec<Result<Option<T>, InputError>>,
    groups: &[usize],
    verify: impl FnOnce(&[T], &[usize], &dyn batch::Listener) -> Vec<bool>,
    progress: &dyn Progress,
) -> Vec<Verdict> {
    let mut verdicts: Vec<Verdict> = Vec::with_capacity(decoded.len());
    let mut items = Vec::new();
    let mut positions = Vec::new();
    for (i, d) in decoded.into_iter().enumerate() {
        match d {
            Ok(Some(item)) => {
                positions.push(i);
                items.push(item);
                verdicts.push(Ok(true));
            }
            Ok(None) => verdicts.push(Ok(false)),
            Err(e) => verdicts.push(Err(e)),
        }
    }
    for (i, verdict) in verdicts.iter().enumerate() {
        if positions.binary_search(&i).is_err() {
            progress.decided(i, verdict);
        }
    }
    let by_position = ByPosition {
        positions: &positions,
        progress,
    };
    let mut start = 0;
    let decoded_groups: Vec<usize> = groups
        .iter()
        .map(|&len| {
            let (from, to) = (start, start + len);
            start = to;
            positions.partition_point(|&p| p < to) - positions.partition_point(|&p| p < from)
        })
        .collect();
    let results = verify(&items, &decoded_groups, &by_position);
    // A backend that answered for fewer items must not leave the rest looking valid.
    assert_eq!(results.len(), items.len(), "one verdict per item");
    for (i, ok) in positions.into_iter().zip(results) {
        verdicts[i] = Ok(ok);
    }
    verdicts
}

/// The progress of a search over the decoded items, told by their places among all.
struct ByPosition<'a> {
    positions: &'a [usize],
    progress: &'a dyn Progress,
}

impl batch::Listener for ByPosition<'_> {
    fn decided(&self, items: &[usize], valid: bool) {
        for &k in items {
            self.progress.decided(self.positions[k], &Ok(valid));
        }
    }

    fn searching(&self) -> Option<&rayon::ThreadPool> {
        self.progress.searching()
    }
}

impl Engine {
    pub fn new(config: &EngineConfig) -> Self {
        let backend = backend::select(config.backend, config.gpu_thresholds, config.device_checks);
        tracing::info!(choice = %config.backend, backend = backend.name(), "engine ready");
        Self {
            config: config.clone(),
            backend,
            public_keys: Arc::new(PublicKeyCache::new(config.public_key_cache)),
            groth16_keys: Arc::new(KeyRegistry::new(config.groth16_keys)),
            sm2_signers: Arc::new(SignerCache::new(
                config.sm2_signer_cache,
                config.sm2_key_tables,
            )),
        }
    }

    /// This engine on the CPU backend, sharing its caches of validated public keys and
    /// registered Groth16 keys: where a batch that failed on this engine (a panic, a
    /// wrong number of verdicts) is run again, without decoding and validating every key
    /// from the start.
    pub fn on_cpu(&self) -> Engine {
        let config = EngineConfig {
            backend: BackendChoice::Cpu,
            ..self.config.clone()
        };
        Engine {
            backend: backend::select(config.backend, config.gpu_thresholds, config.device_checks),
            config,
            public_keys: Arc::clone(&self.public_keys),
            groth16_keys: Arc::clone(&self.groth16_keys),
            sm2_signers: Arc::clone(&self.sm2_signers),
        }
    }

    /// How this engine was set up.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The backend running the primitives.
    pub fn backend(&self) -> &dyn Backend {
        &*self.backend
    }

    /// The GPU's fallbacks, spot checks and mismatches (`None` on the CPU backend).
    pub fn device_health(&self) -> Option<backend::DeviceHealth> {
        self.backend.device_health()
    }

    /// Validated public keys held in the cache.
    pub fn cached_public_keys(&self) -> usize {
        self.public_keys.len()
    }

    /// SM2 signers (key and ID) held in the cache.
    pub fn cached_sm2_signers(&self) -> usize {
        self.sm2_signers.len()
    }

    /// Verifies SM2 signatures as GB/T 32918.2 says, one verdict each (a malformed key,
    /// signature, digest or ID is an error naming it), on every core. Signers come from
    /// (and go to) the engine's cache.
    pub fn verify_sm2(&self, items: &[Sm2Item]) -> Vec<Verdict> {
        self.verify_sm2_reporting(items, &Unfollowed)
    }

    /// [`Engine::verify_sm2`], telling `progress` each verdict as it is known.
    pub fn verify_sm2_reporting(&self, items: &[Sm2Item], progress: &dyn Progress) -> Vec<Verdict> {
        items
            .par_iter()
            .enumerate()
            .map(|(i, item)| {
                let verdict = item.decode(&self.sm2_signers).map(|d| d.verify());
                progress.decided(i, &verdict);
                verdict
            })
            .collect()
    }

    /// Groth16 keys registered and held.
    pub fn registered_keys(&self) -> usize {
        self.groth16_keys.len()
    }

    /// Verifies signature sets as one batch under `suite`'s tag and scheme; one verdict
    /// per set, in order. A set that does not decode (or breaks the scheme's rules) gets
    /// an error verdict and does not affect the others.
    pub fn verify_signature_sets(
        &self,
        sets: &[SignatureSet],
        suite: &Ciphersuite,
    ) -> Vec<Verdict> {
        self.verify_signature_sets_reporting(sets, suite, &[], &Unfollowed)
    }

    /// [`Engine::verify_signature_sets`] for sets that come in `groups` (lengths of runs
    /// of sets, one per caller merged into the batch): a failed batch is split along the
    /// groups first, and `progress` is told each set's verdict as soon as it is known.
    pub fn verify_signature_sets_reporting(
        &self,
        sets: &[SignatureSet],
        suite: &Ciphersuite,
        groups: &[usize],
        progress: &dyn Progress,
    ) -> Vec<Verdict> {
        let decoded =
            bls::sets::decode_all(sets, suite.scheme(), &self.public_keys, &*self.backend);
        verify_decoded(
            decoded,
            groups,
            |valid, groups, decided| {
                bls::verify::verify_sets(&*self.backend, valid, suite.dst(), groups, decided)
            },
            progress,
        )
    }

    /// [`Engine::verify_signature_sets`] for sets whose keys and signatures the caller
    /// already holds decoded and validated ([`bls::PublicKey`], [`bls::Signature`]):
    /// nothing is decoded again and the key cache is not touched. The same verdicts
    /// as for the sets' bytes, errors on a set's shape included.
    pub fn verify_decoded_sets(
        &self,
        sets: &[DecodedSet<'_>],
        suite: &Ciphersuite,
    ) -> Vec<Verdict> {
        let validated = sets
            .par_iter()
            .map(|set| set.validate(suite.scheme(), &*self.backend))
            .collect();
        verify_decoded(
            validated,
            &[],
            |valid, groups, decided| {
                bls::verify::verify_sets(&*self.backend, valid, suite.dst(), groups, decided)
            },
            &Unfollowed,
        )
    }

    fn verify_one(&self, set: SignatureSet, suite: &Ciphersuite) -> Verdict {
        self.verify_signature_sets(std::slice::from_ref(&set), suite)
            .pop()
            .expect("one verdict per set")
    }

    /// Verify(PK, message, signature).
    pub fn verify(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
        suite: &Ciphersuite,
    ) -> Verdict {
        self.verify_one(
            SignatureSet {
                signature: signature.to_vec(),
                public_keys: vec![public_key.to_vec()],
                messages: vec![message.to_vec()],
            },
            suite,
        )
    }

    /// FastAggregateVerify(PK_1..n, message, signature): every key signed one message.
    /// The draft defines it for the proof-of-possession scheme only.
    pub fn fast_aggregate_verify(
        &self,
        public_keys: &[Vec<u8>],
        message: &[u8],
        signature: &[u8],
        suite: &Ciphersuite,
    ) -> Verdict {
        if suite.scheme() != Scheme::ProofOfPossession {
            return Err(InputError::new(
                Field::Scheme,
                None,
                ErrorKind::FastAggregateNeedsPop(suite.scheme()),
            ));
        }
        self.verify_one(
            SignatureSet {
                signature: signature.to_vec(),
                public_keys: public_keys.to_vec(),
                messages: vec![message.to_vec()],
            },
            suite,
        )
    }

    /// eth_fast_aggregate_verify (Ethereum's Altair variant): like FastAggregateVerify,
    /// but no keys with the G2 point at infinity as the signature is valid (an empty
    /// sync committee participation).
    pub fn eth_fast_aggregate_verify(
        &self,
        public_keys: &[Vec<u8>],
        message: &[u8],
        signature: &[u8],
        suite: &Ciphersuite,
    ) -> Verdict {
        if public_keys.is_empty()
            && signature == bls::G2_POINT_AT_INFINITY
            && suite.scheme() == Scheme::ProofOfPossession
        {
            return Ok(true);
        }
        self.fast_aggregate_verify(public_keys, message, signature, suite)
    }

    /// AggregateVerify((PK_1, message_1), ..., (PK_n, message_n), signature), by the
    /// rules of `suite`'s scheme.
    pub fn aggregate_verify(
        &self,
        public_keys: &[Vec<u8>],
        messages: &[Vec<u8>],
        signature: &[u8],
        suite: &Ciphersuite,
    ) -> Verdict {
        if public_keys.len() != messages.len() {
            return Err(InputError::new(
                Field::Messages,
                None,
                ErrorKind::MessageCount {
                    messages: messages.len(),
                    keys: public_keys.len(),
                    one_for_all: false,
                },
            ));
        }
        self.verify_one(
            SignatureSet {
                signature: signature.to_vec(),
                public_keys: public_keys.to_vec(),
                messages: messages.to_vec(),
            },
            suite,
        )
    }

    /// Aggregate: the compressed sum of the signatures.
    pub fn aggregate_signatures(
        &self,
        signatures: &[impl AsRef<[u8]>],
    ) -> Result<[u8; bls::SIGNATURE_BYTES], InputError> {
        bls::ops::aggregate_signatures(&*self.backend, signatures)
    }

    /// eth_aggregate_pubkeys: the compressed sum of the validated keys.
    pub fn aggregate_public_keys(
        &self,
        public_keys: &[impl AsRef<[u8]>],
    ) -> Result<[u8; bls::PUBLIC_KEY_BYTES], InputError> {
        bls::ops::aggregate_public_keys(&*self.backend, &self.public_keys, public_keys)
    }

    /// Sign(SK, message) by `suite`'s scheme: the compressed signature (of PK ‖ message
    /// under message augmentation).
    pub fn sign(
        &self,
        secret_key: &[u8],
        message: &[u8],
        suite: &Ciphersuite,
    ) -> Result<[u8; bls::SIGNATURE_BYTES], InputError> {
        let sk = bls::ops::SecretKey::from_bytes(secret_key)?;
        let signature = match suite.scheme() {
            Scheme::MessageAugmentation => {
                let signed = bls::scheme::augmented(&sk.public_key(), message);
                sk.sign(&*self.backend, &signed, suite.dst())
            }
            Scheme::Basic | Scheme::ProofOfPossession => {
                sk.sign(&*self.backend, message, suite.dst())
            }
        };
        Ok(signature.to_bytes())
    }

    /// SkToPk: the compressed public key of a secret key.
    pub fn public_key(&self, secret_key: &[u8]) -> Result<[u8; bls::PUBLIC_KEY_BYTES], InputError> {
        Ok(bls::ops::SecretKey::from_bytes(secret_key)?.public_key())
    }

    /// hash_to_curve to G2, uncompressed (x.c1 ‖ x.c0 ‖ y.c1 ‖ y.c0).
    pub fn hash_to_g2(&self, message: &[u8], dst: &[u8]) -> Result<[u8; 192], InputError> {
        bls::check_dst(dst)?;
        Ok(points::serialize_g2(
            &self.backend.hash_to_g2(&[message], dst)[0],
        ))
    }

    /// The RFC 9162 tree head of `leaves` (their data), with `hash` (SHA-256 as the RFC
    /// has it, or SM3), hashed on this engine's backend.
    pub fn log_tree_head<T: AsRef<[u8]>>(
        &self,
        hash: merkle::TreeHash,
        leaves: &[T],
    ) -> transparency_log::Hash {
        transparency_log::tree_head_of(&*self.backend, hash, leaves)
    }

    /// The next batch of leaves of `lines`, their leaf hashes made with `hash` on this
    /// engine's backend.
    pub fn next_log_leaves(
        &self,
        lines: &mut LeafLines,
        hash: merkle::TreeHash,
    ) -> Result<LeafBatch, LeafError> {
        lines.next_batch(&*self.backend, hash)
    }

    /// Appends leaves, by their hashes, to `head`, whole subtrees reduced on this
    /// engine's backend.
    pub fn extend_log_head(&self, head: &mut TreeHead, leaf_hashes: &[transparency_log::Hash]) {
        head.extend(&*self.backend, leaf_hashes);
    }

    /// Gives `prover` the next batch of leaves, their subtrees reduced on this engine's
    /// backend.
    pub fn add_to_log_prover(&self, prover: &mut Prover, batch: &LeafBatch) {
        prover.add(&*self.backend, batch);
    }

    /// The SSZ root of `chunks` padded to `limit` (or to the chunk count), with
    /// `mix_in_length` mixed in if given.
    pub fn merkle_root(
        &self,
        chunks: &[u8],
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<Node, MerkleError> {
        self.merkle_root_with(merkle::TreeHash::Sha256, chunks, limit, mix_in_length)
    }

    /// [`Engine::merkle_root`] with nodes made by `hash` (SHA-256 or SM3).
    pub fn merkle_root_with(
        &self,
        hash: merkle::TreeHash,
        chunks: &[u8],
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<Node, MerkleError> {
        let root = merkle::root_with(&*self.backend, hash, chunks, limit)?;
        Ok(match mix_in_length {
            Some(length) => merkle::mix_in_length_with(hash, &root, length),
            None => root,
        })
    }

    /// The root of the chunks `reader` gives (a file, stdin), read block by block in
    /// memory that does not depend on their number ([`merkle::stream`]), with the length
    /// `mix_in_length` finds from the chunk count mixed in if any; and the chunk count.
    /// Nodes are made by `hash`.
    pub fn merkle_root_of_reader<R: std::io::Read + Send + 'static>(
        &self,
        hash: merkle::TreeHash,
        reader: R,
        limit: Option<u64>,
        mix_in_length: impl FnOnce(u64) -> Option<u64>,
    ) -> Result<(Node, u64), merkle::stream::StreamError> {
        let (root, chunks) = merkle::stream::root_of_reader(&*self.backend, hash, reader, limit)?;
        let root = match mix_in_length(chunks) {
            Some(length) => merkle::mix_in_length_with(hash, &root, length),
            None => root,
        };
        Ok((root, chunks))
    }

    /// Takes the next bytes of a root streamed in pieces (a service's client stream),
    /// hashing each whole block as it fills.
    pub fn push_merkle_chunks(
        &self,
        stream: &mut merkle::stream::RootStream,
        bytes: &[u8],
    ) -> Result<(), MerkleError> {
        stream.push(&*self.backend, bytes)
    }

    /// The root of a stream of pieces, with the length `mix_in_length` finds from the
    /// chunk count mixed in if any.
    pub fn finish_merkle_root(
        &self,
        stream: merkle::stream::RootStream,
        mix_in_length: impl FnOnce(u64) -> Option<u64>,
    ) -> Result<Node, MerkleError> {
        let length = mix_in_length(stream.chunks());
        let hash = stream.hash();
        let root = stream.finish(&*self.backend)?;
        Ok(match length {
            Some(length) => merkle::mix_in_length_with(hash, &root, length),
            None => root,
        })
    }

    /// The tree of a file's chunks for proofs, held from its blocks' roots up, so that a
    /// file larger than memory can be proven ([`merkle::file_tree`]).
    /// Nodes are made by `hash`.
    pub fn merkle_file_tree(
        &self,
        hash: merkle::TreeHash,
        file: impl std::io::Read,
        limit: Option<u64>,
        mix_in_length: impl FnOnce(u64) -> Option<u64>,
    ) -> Result<merkle::file_tree::FileTree, merkle::stream::StreamError> {
        merkle::file_tree::FileTree::build(&*self.backend, hash, file, limit, mix_in_length)
    }

    /// A multi-proof of `indices` in `tree`, reading the blocks it needs from `file` (the
    /// file the tree was built from).
    pub fn prove_from_file(
        &self,
        tree: &merkle::file_tree::FileTree,
        file: &mut (impl std::io::Read + std::io::Seek),
        indices: &[u64],
    ) -> Result<merkle::MultiProof, merkle::stream::StreamError> {
        tree.prove(&*self.backend, file, indices)
    }

    /// The whole tree, for proofs.
    pub fn merkle_tree(
        &self,
        chunks: &[u8],
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<Tree, MerkleError> {
        self.merkle_tree_with(merkle::TreeHash::Sha256, chunks, limit, mix_in_length)
    }

    /// [`Engine::merkle_tree`] with nodes made by `hash`.
    pub fn merkle_tree_with(
        &self,
        hash: merkle::TreeHash,
        chunks: &[u8],
        limit: Option<u64>,
        mix_in_length: Option<u64>,
    ) -> Result<Tree, MerkleError> {
        Tree::new(&*self.backend, hash, chunks, limit, mix_in_length)
    }

    /// Decodes, validates and registers a verifying key; `format` is detected if `None`.
    pub fn register_groth16_key(
        &self,
        bytes: &[u8],
        format: Option<KeyFormat>,
    ) -> Result<Arc<PreparedKey>, InputError> {
        Ok(self.add_groth16_key(self.prepare_groth16_key(bytes, format)?))
    }

    /// Registers a key [`Engine::prepare_groth16_key`] made (a caller may first decide,
    /// from its id, whether to), and writes it to the key store if there is one. A key
    /// the store cannot write is still registered (the error is logged): it is then
    /// known here until it is evicted or the process ends, like a key without a store.
    pub fn add_groth16_key(&self, key: PreparedKey) -> Arc<PreparedKey> {
        if let Some(store) = &self.config.groth16_key_store
            && let Err(e) = store.save(&key)
        {
            tracing::error!(error = %e, "a registered Groth16 key was not stored");
        }
        let key = self.groth16_keys.insert(key);
        tracing::debug!(id = %hex::encode(key.id()), "registered a Groth16 key");
        key
    }

    /// Registers a key that is never evicted (`--groth16-key-dir`: keys the deployment
    /// names, as opposed to keys callers register).
    pub fn pin_groth16_key(&self, key: PreparedKey) -> Arc<PreparedKey> {
        let key = self.groth16_keys.pin(key);
        tracing::info!(id = %hex::encode(key.id()), "loaded a Groth16 key");
        key
    }

    /// Decodes and validates a verifying key, without registering it; `format` is
    /// detected if `None`.
    pub fn prepare_groth16_key(
        &self,
        bytes: &[u8],
        format: Option<KeyFormat>,
    ) -> Result<PreparedKey, InputError> {
        let format = format.or_else(|| KeyFormat::detect(bytes)).ok_or_else(|| {
            InputError::new(
                Field::VerifyingKey,
                None,
                ErrorKind::UnknownKeyFormat(bytes.len()),
            )
        })?;
        let ic = format.ic_points(bytes)?;
        if ic > self.config.max_ic_points {
            return Err(InputError::new(
                Field::VerifyingKey,
                None,
                ErrorKind::TooManyIcPoints {
                    ic,
                    limit: self.config.max_ic_points,
                },
            ));
        }
        let key = format.parse_key_with(bytes, self.config.degenerate_groth16_keys)?;
        Ok(PreparedKey::new(key))
    }

    /// A registered key by id, if it is in memory.
    pub fn cached_groth16_key(&self, id: &KeyId) -> Option<Arc<PreparedKey>> {
        self.groth16_keys.get(id)
    }

    /// A registered key by id: in memory, or else read from the key store (and
    /// validated again), which reads a file: call it where blocking is allowed. A store
    /// file that cannot be read or is not the key its name says is logged and treated
    /// as absent.
    pub fn groth16_key(&self, id: &KeyId) -> Option<Arc<PreparedKey>> {
        if let Some(key) = self.groth16_keys.get(id) {
            return Some(key);
        }
        let store = self.config.groth16_key_store.as_ref()?;
        match store.load(
            id,
            self.config.degenerate_groth16_keys,
            self.config.max_ic_points,
        ) {
            Ok(key) => Some(self.groth16_keys.insert(key?)),
            Err(e) => {
                tracing::error!(error = %e, "a stored Groth16 key cannot be used");
                None
            }
        }
    }

    /// Verifies proofs for one key as one batch; one verdict per proof, in order.
    pub fn verify_groth16(&self, key: &PreparedKey, proofs: &[ProofInput]) -> Vec<Verdict> {
        self.verify_groth16_reporting(key, proofs, &[], &Unfollowed)
    }

    /// [`Engine::verify_groth16`] for proofs that come in `groups`, as
    /// [`Engine::verify_signature_sets_reporting`].
    pub fn verify_groth16_reporting(
        &self,
        key: &PreparedKey,
        proofs: &[ProofInput],
        groups: &[usize],
        progress: &dyn Progress,
    ) -> Vec<Verdict> {
        let decoded = proofs
            .par_iter()
            .map(|p| decode_statement(key, p).map(Some))
            .collect();
        verify_decoded(
            decoded,
            groups,
            |statements, groups, decided| {
                groth16::verify::verify_statements(&*self.backend, key, statements, groups, decided)
            },
            progress,
        )
    }

    /// [`Engine::verify_groth16`] for proofs already decoded and validated
    /// ([`groth16::parse_proof`], [`PublicInput::from_be_bytes`]): nothing is parsed
    /// again. The same verdicts as for their bytes, a wrong input count included.
    pub fn verify_decoded_groth16(
        &self,
        key: &PreparedKey,
        proofs: &[(groth16::Proof, Vec<PublicInput>)],
    ) -> Vec<Verdict> {
        let statements = proofs
            .par_iter()
            .map(|(proof, inputs)| Statement::new(key, *proof, inputs.clone()).map(Some))
            .collect();
        verify_decoded(
            statements,
            &[],
            |statements, groups, decided| {
                groth16::verify::verify_statements(&*self.backend, key, statements, groups, decided)
            },
            &Unfollowed,
        )
    }
}

fn decode_statement(key: &PreparedKey, input: &ProofInput) -> Result<Statement, InputError> {
    let proof = groth16::parse_proof(&input.proof)?;
    let inputs = input
        .public_inputs
        .iter()
        .enumerate()
        .map(|(i, bytes)| PublicInput::from_be_bytes(bytes, i))
        .collect::<Result<_, _>>()?;
    Statement::new(key, proof, inputs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selftest::inputs::{self, GROTH16_KEY, Rng, Validators};

    /// Sets given as decoded points get the verdicts their bytes get: valid ones, ones
    /// signed over another message or by another key, and every error on a set's shape
    /// (no key, a wrong message count, a repeat under the basic scheme).
    #[test]
    fn decoded_sets_get_the_verdicts_of_their_bytes() {
        let engine = Engine::new(&EngineConfig::default());
        let mut rng = Rng::new(9);
        let validators = Validators::new(&engine, 6, &mut rng);
        let mut sets: Vec<SignatureSet> =
            inputs::signature_sets(&engine, &validators, 40, 3, 40, &mut rng)
                .into_iter()
                .filter(|(_, expected)| *expected != inputs::Expected::Malformed)
                .map(|(set, _)| set)
                .collect();
        let valid = sets[0].clone();
        let shapes = [
            SignatureSet {
                public_keys: Vec::new(),
                ..valid.clone()
            },
            SignatureSet {
                messages: vec![b"a".to_vec(), b"b".to_vec()],
                ..valid.clone()
            },
            SignatureSet {
                public_keys: vec![valid.public_keys[0].clone(); 2],
                messages: vec![b"twice".to_vec(), b"twice".to_vec()],
                ..valid.clone()
            },
        ];
        sets.extend(shapes);
        let basic = Ciphersuite::new(
            b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_".to_vec(),
            None,
        )
        .unwrap();
        for suite in [Ciphersuite::ETHEREUM, basic] {
            let signatures: Vec<bls::Signature> = sets
                .iter()
                .map(|s| bls::Signature::from_bytes(&s.signature).unwrap())
                .collect();
            let keys: Vec<Vec<bls::PublicKey>> = sets
                .iter()
                .map(|s| {
                    s.public_keys
                        .iter()
                        .map(|k| bls::PublicKey::from_bytes(k).unwrap())
                        .collect()
                })
                .collect();
            let decoded: Vec<DecodedSet> = sets
                .iter()
                .zip(&signatures)
                .zip(&keys)
                .map(|((set, signature), keys)| DecodedSet {
                    signature,
                    public_keys: keys.iter().collect(),
                    messages: set.messages.iter().map(Vec::as_slice).collect(),
                })
                .collect();
            let from_bytes = engine.verify_signature_sets(&sets, &suite);
            assert_eq!(engine.verify_decoded_sets(&decoded, &suite), from_bytes);
            assert!(from_bytes.contains(&Ok(false)));
            // Signed under Ethereum's tag: valid there, invalid under the basic one.
            assert_eq!(
                from_bytes.contains(&Ok(true)),
                suite == Ciphersuite::ETHEREUM
            );
            assert!(from_bytes.iter().filter(|v| v.is_err()).count() >= 2);
        }
    }

    /// Groth16 proofs given decoded get the verdicts of their bytes: valid, tampered,
    /// and a statement with one public input too few.
    #[test]
    fn decoded_proofs_get_the_verdicts_of_their_bytes() {
        let engine = Engine::new(&EngineConfig::default());
        let key = engine.register_groth16_key(GROTH16_KEY, None).unwrap();
        let mut rng = Rng::new(4);
        let mut proofs: Vec<ProofInput> = inputs::groth16_proofs(24, 40, &mut rng)
            .into_iter()
            .filter(|(_, expected)| *expected != inputs::Expected::Malformed)
            .map(|(proof, _)| proof)
            .collect();
        let mut short = proofs[0].clone();
        short.public_inputs.pop();
        proofs.push(short);
        let decoded: Vec<(groth16::Proof, Vec<PublicInput>)> = proofs
            .iter()
            .map(|p| {
                let inputs = p
                    .public_inputs
                    .iter()
                    .enumerate()
                    .map(|(i, bytes)| PublicInput::from_be_bytes(bytes, i).unwrap())
                    .collect();
                (groth16::parse_proof(&p.proof).unwrap(), inputs)
            })
            .collect();
        let from_bytes = engine.verify_groth16(&key, &proofs);
        assert_eq!(engine.verify_decoded_groth16(&key, &decoded), from_bytes);
        assert!(from_bytes.contains(&Ok(true)) && from_bytes.contains(&Ok(false)));
        assert!(from_bytes.last().unwrap().is_err(), "an input too few");
    }

    /// The CPU twin a failed batch is run again on knows the keys its engine validated
    /// and registered, and runs on the CPU.
    #[test]
    fn the_cpu_twin_shares_the_key_caches() {
        let engine = Engine::new(&EngineConfig {
            backend: BackendChoice::Cpu,
            ..EngineConfig::default()
        });
        let mut rng = Rng::new(5);
        let validators = Validators::new(&engine, 3, &mut rng);
        let sets: Vec<SignatureSet> =
            inputs::signature_sets(&engine, &validators, 6, 2, 0, &mut rng)
                .into_iter()
                .map(|(set, _)| set)
                .collect();
        assert!(
            engine
                .verify_signature_sets(&sets, &Ciphersuite::ETHEREUM)
                .iter()
                .all(|v| *v == Ok(true))
        );
        let key = engine.register_groth16_key(GROTH16_KEY, None).unwrap();
        let twin = engine.on_cpu();
        assert_eq!(twin.backend().name(), "cpu");
        assert!(engine.cached_public_keys() > 0);
        assert_eq!(twin.cached_public_keys(), engine.cached_public_keys());
        assert!(twin.groth16_key(key.id()).is_some());
    }
}
