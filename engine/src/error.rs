//! Errors in inputs, typed from where they are found to where they are shown: which
//! field, which element of it, and what is wrong. The service sends the three apart
//! (veribatch-proto maps them to `Verdict.malformed`), the client reads them back, and the
//! CLI renames the field to its file's spelling; no one parses an error's text.

use std::fmt;

use crate::bls::Scheme;
use crate::curves::bls12_381::DecodeError;
use crate::groth16::{FormatError, KeyDefect};
use crate::merkle::MerkleError;

/// The field of a request (the proto's name) or of a record that holds a malformed input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Signature,
    PublicKeys,
    Messages,
    Dst,
    Scheme,
    SecretKey,
    Signatures,
    VerifyingKey,
    Proof,
    PublicInputs,
    Root,
    Gindices,
    Leaves,
    Items,
    /// A transparency-log proof's parts.
    Path,
    OldRoot,
    Leaf,
    /// An SM2 signature's parts.
    PublicKey,
    Message,
    Digest,
    Id,
    /// The item as a whole: what a reply from a server names when it names no field this
    /// build knows.
    Item,
}

impl Field {
    pub const ALL: [Field; 22] = [
        Field::Signature,
        Field::PublicKeys,
        Field::Messages,
        Field::Dst,
        Field::Scheme,
        Field::SecretKey,
        Field::Signatures,
        Field::VerifyingKey,
        Field::Proof,
        Field::PublicInputs,
        Field::Root,
        Field::Gindices,
        Field::Leaves,
        Field::Items,
        Field::Path,
        Field::OldRoot,
        Field::Leaf,
        Field::PublicKey,
        Field::Message,
        Field::Digest,
        Field::Id,
        Field::Item,
    ];

    /// The proto's name of the field.
    pub fn name(self) -> &'static str {
        match self {
            Field::Signature => "signature",
            Field::PublicKeys => "public_keys",
            Field::Messages => "messages",
            Field::Dst => "dst",
            Field::Scheme => "scheme",
            Field::SecretKey => "secret_key",
            Field::Signatures => "signatures",
            Field::VerifyingKey => "verifying_key",
            Field::Proof => "proof",
            Field::PublicInputs => "public_inputs",
            Field::Root => "root",
            Field::Gindices => "gindices",
            Field::Leaves => "leaves",
            Field::Items => "items",
            Field::Path => "path",
            Field::OldRoot => "old_root",
            Field::Leaf => "leaf",
            Field::PublicKey => "public_key",
            Field::Message => "message",
            Field::Digest => "digest",
            Field::Id => "id",
            Field::Item => "item",
        }
    }

    /// The field of a proto name; [`Field::Item`] for a name this build does not know.
    pub fn from_name(name: &str) -> Field {
        Field::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .unwrap_or(Field::Item)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with a malformed input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("expected {expected} bytes, got {got}")]
    Length { expected: usize, got: usize },
    /// A point that does not decode, or is not allowed where it is.
    #[error(transparent)]
    Point(#[from] DecodeError),
    #[error("{0}")]
    OutOfRange(Range),
    #[error("no public keys")]
    NoPublicKeys,
    #[error("nothing to aggregate")]
    NothingToAggregate,
    #[error(
        "{messages} messages for {keys} public keys: expected {}",
        if *one_for_all { "1 (signed by every key) or one per key" } else { "one per key" }
    )]
    MessageCount {
        messages: usize,
        keys: usize,
        /// Whether one message signed by every key is allowed.
        one_for_all: bool,
    },
    #[error(
        "one message for {keys} public keys: the basic scheme requires a distinct message \
         per key (one message for many keys is proof of possession's FastAggregateVerify)"
    )]
    OneMessageUnderBasic { keys: usize },
    #[error("repeats messages[{first}]: the basic scheme requires distinct messages")]
    RepeatedMessage { first: usize },
    #[error("must have 1 to 255 bytes, has {0}")]
    DstLength(usize),
    #[error("{given} contradicts the tag, whose suffix {} names {named}", String::from_utf8_lossy(named.suffix()))]
    SchemeContradictsTag { given: Scheme, named: Scheme },
    #[error(
        "the tag names no scheme (its suffix is not _NUL_, _AUG_ or _POP_): give the scheme \
         (basic, aug or pop)"
    )]
    TagNamesNoScheme,
    #[error("FastAggregateVerify is defined for the proof-of-possession scheme only, not {0}")]
    FastAggregateNeedsPop(Scheme),
    #[error("{given} given, the key expects {expected}")]
    InputCount { given: usize, expected: usize },
    #[error("format not recognised ({0} bytes, not JSON): name it explicitly")]
    UnknownKeyFormat(usize),
    #[error("{ic} IC points; at most {limit} per key ({} public inputs)", limit.saturating_sub(1))]
    TooManyIcPoints { ic: usize, limit: usize },
    #[error("IC is empty: a key has one IC point more than public inputs")]
    EmptyIc,
    /// A key anyone can forge proofs for.
    #[error(transparent)]
    Degenerate(#[from] KeyDefect),
    /// A key or proof whose file format is broken.
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("{leaves} leaves for {gindices} generalized indices")]
    LeafCount { leaves: usize, gindices: usize },
    /// A Merkle multi-proof whose shape is wrong (its location is the error's field).
    #[error("{}", .0.reason())]
    Merkle(#[from] MerkleError),
    #[error("{size} {unit} exceed the queue limit of {limit}; split the request")]
    OverQueueLimit {
        size: u64,
        unit: &'static str,
        limit: u64,
    },
    /// Neither of the two things a field may hold (a log proof that is neither inclusion
    /// nor consistency, a leaf given neither as data nor as hash).
    #[error(transparent)]
    Sm2PublicKey(#[from] crate::curves::sm2p256v1::PointError),
    #[error(transparent)]
    Sm2Signature(#[from] crate::sm2::SignatureError),
    #[error("has {0} bytes; at most 8191 (its length in bits is 16 bits)")]
    IdTooLong(usize),
    #[error("missing: give {0}")]
    Unset(&'static str),
    /// A defect a server reported, known here by its code and text only.
    #[error("{reason}")]
    Reported { code: ErrorCode, reason: String },
}

/// The bound an integer broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// A Groth16 public input: below the scalar field modulus r.
    BelowScalarModulus,
    /// A secret key: nonzero and below the group order r.
    SecretKey,
}

impl fmt::Display for Range {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Range::BelowScalarModulus => "not canonical: must be below the scalar field modulus r",
            Range::SecretKey => "must be nonzero and below the group order r",
        })
    }
}

/// The kinds of defect as codes for machines (the proto's `InputErrorCode`): fewer than
/// [`ErrorKind`]'s variants, stable, and what a client should branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// Not known to this build (a newer server's code).
    Unspecified,
    /// Bytes of the wrong length.
    Length,
    /// Bytes that are not a canonical encoding.
    Encoding,
    NotOnCurve,
    NotInSubgroup,
    /// The point at infinity where it is not allowed.
    Infinity,
    /// An integer outside its range.
    OutOfRange,
    /// Nothing where something is needed.
    Missing,
    /// Counts that disagree.
    Count,
    /// A repeat where distinct values are needed.
    Repeated,
    /// A ciphersuite or scheme that does not fit the request.
    Scheme,
    /// A key or proof file whose format is broken, or not known.
    Format,
    /// A verifying key anyone can forge proofs for.
    DegenerateKey,
    /// More than a limit allows.
    TooLarge,
    /// A Merkle proof of the wrong shape.
    MerkleProof,
}

impl ErrorKind {
    pub fn code(&self) -> ErrorCode {
        match self {
            ErrorKind::Length { .. } | ErrorKind::DstLength(_) => ErrorCode::Length,
            ErrorKind::Point(e) | ErrorKind::Format(FormatError::Point { error: e, .. }) => match e
            {
                DecodeError::Length { .. } | DecodeError::Lengths { .. } => ErrorCode::Length,
                DecodeError::Encoding => ErrorCode::Encoding,
                DecodeError::NotOnCurve => ErrorCode::NotOnCurve,
                DecodeError::NotInSubgroup => ErrorCode::NotInSubgroup,
                DecodeError::Infinity => ErrorCode::Infinity,
            },
            ErrorKind::Format(FormatError::ProofLength(_)) => ErrorCode::Length,
            ErrorKind::OutOfRange(_) => ErrorCode::OutOfRange,
            ErrorKind::NoPublicKeys
            | ErrorKind::NothingToAggregate
            | ErrorKind::EmptyIc
            | ErrorKind::Unset(_) => ErrorCode::Missing,
            ErrorKind::MessageCount { .. }
            | ErrorKind::InputCount { .. }
            | ErrorKind::LeafCount { .. } => ErrorCode::Count,
            ErrorKind::RepeatedMessage { .. } => ErrorCode::Repeated,
            ErrorKind::OneMessageUnderBasic { .. }
            | ErrorKind::SchemeContradictsTag { .. }
            | ErrorKind::TagNamesNoScheme
            | ErrorKind::FastAggregateNeedsPop(_) => ErrorCode::Scheme,
            ErrorKind::UnknownKeyFormat(_) | ErrorKind::Format(_) => ErrorCode::Format,
            ErrorKind::Degenerate(_) => ErrorCode::DegenerateKey,
            ErrorKind::TooManyIcPoints { .. } | ErrorKind::OverQueueLimit { .. } => {
                ErrorCode::TooLarge
            }
            ErrorKind::Merkle(_) => ErrorCode::MerkleProof,
            ErrorKind::Sm2PublicKey(e) => {
                use crate::curves::sm2p256v1::PointError;
                match e {
                    PointError::Length(_) => ErrorCode::Length,
                    PointError::Prefix { .. } | PointError::CoordinateTooLarge => {
                        ErrorCode::Encoding
                    }
                    PointError::NotOnCurve => ErrorCode::NotOnCurve,
                }
            }
            ErrorKind::Sm2Signature(e) => match e {
                crate::sm2::SignatureError::Length(_) => ErrorCode::Length,
                crate::sm2::SignatureError::Der(_) => ErrorCode::Encoding,
                crate::sm2::SignatureError::OutOfRange(_) => ErrorCode::OutOfRange,
            },
            ErrorKind::IdTooLong(_) => ErrorCode::TooLarge,
            ErrorKind::Reported { code, .. } => *code,
        }
    }
}

/// A malformed input: where (a field and, for repeated fields, the element's index:
/// `public_keys[3]`) and what is wrong.
///
/// Returned for bad hex, wrong lengths, non-canonical encodings, points off the curve or
/// outside the prime-order subgroup, inconsistent counts and the like. It is never used
/// for a well-formed input that simply fails verification: that is `Ok(false)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError {
    pub field: Field,
    pub index: Option<usize>,
    pub kind: ErrorKind,
}

impl InputError {
    /// Exactly `N` bytes of `field` (its element `index`), or the length error naming it.
    pub fn exact<const N: usize>(
        bytes: &[u8],
        field: Field,
        index: Option<usize>,
    ) -> Result<[u8; N], InputError> {
        bytes.try_into().map_err(|_| {
            InputError::new(
                field,
                index,
                ErrorKind::Length {
                    expected: N,
                    got: bytes.len(),
                },
            )
        })
    }

    pub fn new(field: Field, index: Option<usize>, kind: impl Into<ErrorKind>) -> Self {
        Self {
            field,
            index,
            kind: kind.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        self.kind.code()
    }

    /// `field[index]: reason` or `field: reason`, with the field as `name` spells it (a
    /// file's own spelling, say). [`Field::Item`] names no place: its reason is shown alone
    /// (a reply from an older server, whose text says where).
    pub fn located(&self, name: &str) -> String {
        match (self.field, self.index) {
            (Field::Item, _) => self.kind.to_string(),
            (_, Some(i)) => format!("{name}[{i}]: {}", self.kind),
            (_, None) => format!("{name}: {}", self.kind),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.located(self.field.name()))
    }
}

impl std::error::Error for InputError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}

/// The answer for one item of a batch: valid, invalid, or malformed (with the reason).
pub type Verdict = Result<bool, InputError>;
