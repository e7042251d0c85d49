//! G1 and G2 points, compressed (public keys, signatures, proofs) and uncompressed
//! (bellman keys): whatever decodes re-encodes, in the same form, to the same bytes (only
//! canonical encodings are accepted), and the key and signature decoders agree with the
//! point decoders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::bls::keys::{deserialize_g1, signature_to_point};
use veribatch_engine::bls::{PublicKey, Signature};
use veribatch_engine::curves::bls12_381::{
    self as points, compress_g1, compress_g2, serialize_g1, serialize_g2,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = points::decode_g1(data) {
        let encoded = match data.len() {
            48 => compress_g1(&p).to_vec(),
            _ => serialize_g1(&p).to_vec(),
        };
        assert_eq!(encoded, data, "G1 round trip");
    }
    if let Ok(p) = deserialize_g1(data) {
        assert_eq!(&compress_g1(&p)[..], data);
        let key = PublicKey::from_bytes(data);
        assert_eq!(
            key.is_ok(),
            !points::g1_is_infinity(&p),
            "KeyValidate is infinity only"
        );
    } else {
        assert!(PublicKey::from_bytes(data).is_err());
    }
    if let Ok(p) = points::decode_g2(data) {
        let encoded = match data.len() {
            96 => compress_g2(&p).to_vec(),
            _ => serialize_g2(&p).to_vec(),
        };
        assert_eq!(encoded, data, "G2 round trip");
    }
    if let Ok(p) = signature_to_point(data) {
        assert_eq!(&compress_g2(&p)[..], data);
    }
    if let Ok(sig) = Signature::from_bytes(data) {
        assert_eq!(&sig.to_bytes()[..], data);
        assert!(
            signature_to_point(data).is_ok(),
            "a signature is a point on the curve"
        );
    }
});
