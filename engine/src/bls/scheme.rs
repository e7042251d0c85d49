//! The three schemes of the BLS signature draft (draft-irtf-cfrg-bls-signature-05,
//! section 3) and the ciphersuite that names one: a domain separation tag and a scheme.
//!
//! The schemes differ only in how AggregateVerify defends against rogue keys, and that
//! difference is what makes an aggregate safe:
//! - **basic** (`_NUL_`): every message of an aggregate must be distinct. Without that
//!   check, the keys `[pk, −pk]` with one message twice and the signature at infinity
//!   verify for any victim key `pk`.
//! - **message augmentation** (`_AUG_`): each key signs its own compressed encoding
//!   followed by the message, so equal messages are fine.
//! - **proof of possession** (`_POP_`, Ethereum's): every key proved possession of its
//!   secret before it was used; messages may repeat, and FastAggregateVerify (one message,
//!   many keys summed) is defined only here.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use super::ETH_DST;
use crate::error::{ErrorKind, Field, InputError};

/// A scheme of the BLS signature draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Basic,
    MessageAugmentation,
    ProofOfPossession,
}

impl Scheme {
    pub const ALL: [Scheme; 3] = [
        Self::Basic,
        Self::MessageAugmentation,
        Self::ProofOfPossession,
    ];

    /// The scheme a ciphersuite's tag names by its suffix (section 4.1 of the draft):
    /// `_NUL_`, `_AUG_` or `_POP_`; `None` for a tag that names none.
    pub fn from_dst(dst: &[u8]) -> Option<Self> {
        Self::ALL.into_iter().find(|s| dst.ends_with(s.suffix()))
    }

    /// The tag suffix of the scheme's ciphersuites.
    pub fn suffix(self) -> &'static [u8] {
        match self {
            Self::Basic => b"_NUL_",
            Self::MessageAugmentation => b"_AUG_",
            Self::ProofOfPossession => b"_POP_",
        }
    }

    /// The name `--scheme` takes and `Display` prints.
    pub fn name(self) -> &'static str {
        match self {
            Self::Basic => "basic",
            Self::MessageAugmentation => "aug",
            Self::ProofOfPossession => "pop",
        }
    }
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a key signs under message augmentation: its 48-byte compressed encoding
/// followed by the message (draft section 3.2).
pub(crate) fn augmented(public_key: &[u8; 48], message: &[u8]) -> Vec<u8> {
    [&public_key[..], message].concat()
}

/// A name that is not a scheme.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown BLS scheme {0:?}: expected basic, aug or pop")]
pub struct UnknownScheme(pub String);

impl FromStr for Scheme {
    type Err = UnknownScheme;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "basic" | "nul" => Ok(Self::Basic),
            "aug" | "augmentation" | "message-augmentation" => Ok(Self::MessageAugmentation),
            "pop" | "proof-of-possession" => Ok(Self::ProofOfPossession),
            _ => Err(UnknownScheme(s.to_string())),
        }
    }
}

/// A domain separation tag and the scheme verification follows: what every set of one
/// batch shares. Only [`Ciphersuite::new`] (or the Ethereum constant) makes one, so the
/// tag's length is valid and the scheme never contradicts the tag.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ciphersuite {
    dst: Cow<'static, [u8]>,
    scheme: Scheme,
}

impl Ciphersuite {
    /// Ethereum's: `BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_`, proof of possession.
    pub const ETHEREUM: Ciphersuite = Ciphersuite {
        dst: Cow::Borrowed(ETH_DST),
        scheme: Scheme::ProofOfPossession,
    };

    /// The ciphersuite of `dst` (1 to 255 bytes). The scheme is `scheme` if given, else
    /// the one the tag's suffix names; a tag that names none needs an explicit scheme,
    /// and a scheme that contradicts the tag's suffix is refused.
    pub fn new(dst: impl Into<Vec<u8>>, scheme: Option<Scheme>) -> Result<Self, InputError> {
        let dst = dst.into();
        super::check_dst(&dst)?;
        let named = Scheme::from_dst(&dst);
        let scheme = match (scheme, named) {
            (Some(given), Some(named)) if given != named => {
                return Err(InputError::new(
                    Field::Scheme,
                    None,
                    ErrorKind::SchemeContradictsTag { given, named },
                ));
            }
            (Some(scheme), _) | (None, Some(scheme)) => scheme,
            (None, None) => {
                return Err(InputError::new(
                    Field::Scheme,
                    None,
                    ErrorKind::TagNamesNoScheme,
                ));
            }
        };
        Ok(Self {
            dst: Cow::Owned(dst),
            scheme,
        })
    }

    pub fn dst(&self) -> &[u8] {
        &self.dst
    }

    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tag_suffix_names_the_scheme() {
        let suite = |dst: &str| Ciphersuite::new(dst.as_bytes(), None).map(|s| s.scheme());
        assert_eq!(
            suite("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"),
            Ok(Scheme::Basic)
        );
        assert_eq!(
            suite("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_AUG_"),
            Ok(Scheme::MessageAugmentation)
        );
        assert_eq!(
            suite("BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_POP_"),
            Ok(Scheme::ProofOfPossession)
        );
        let err = suite("MY_APP_V1").unwrap_err();
        assert_eq!(
            (err.field, &err.kind),
            (Field::Scheme, &ErrorKind::TagNamesNoScheme)
        );
        assert!(err.to_string().contains("names no scheme"), "{err}");
    }

    #[test]
    fn an_explicit_scheme_serves_any_tag_but_never_contradicts_one() {
        let custom = Ciphersuite::new(b"MY_APP_V1".to_vec(), Some(Scheme::Basic)).unwrap();
        assert_eq!(custom.scheme(), Scheme::Basic);
        assert_eq!(custom.dst(), b"MY_APP_V1");
        let err = Ciphersuite::new(ETH_DST, Some(Scheme::Basic)).unwrap_err();
        assert_eq!(
            err.kind,
            ErrorKind::SchemeContradictsTag {
                given: Scheme::Basic,
                named: Scheme::ProofOfPossession
            }
        );
        assert!(err.to_string().contains("contradicts"), "{err}");
        assert_eq!(
            Ciphersuite::new(ETH_DST, Some(Scheme::ProofOfPossession)),
            Ok(Ciphersuite::ETHEREUM)
        );
        assert_eq!(
            Ciphersuite::new(Vec::new(), Some(Scheme::Basic))
                .unwrap_err()
                .kind,
            ErrorKind::DstLength(0)
        );
    }

    #[test]
    fn scheme_names_parse() {
        for scheme in Scheme::ALL {
            assert_eq!(scheme.name().parse(), Ok(scheme));
        }
        assert_eq!("NUL".parse(), Ok(Scheme::Basic));
        assert!("schnorr".parse::<Scheme>().is_err());
    }
}
