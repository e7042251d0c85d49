//! SM2 inputs: public keys, signatures and whole JSON records. Whatever decodes
//! re-encodes to the same bytes (uncompressed keys, strict DER and raw signatures have one
//! encoding each), a compressed key decodes to a point whose uncompressed form decodes
//! too, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use veribatch_engine::curves::sm2p256v1::Point;
use veribatch_engine::sm2::{Signature, SignerCache, Sm2Item};

fuzz_target!(|data: &[u8]| {
    if let Ok(point) = Point::from_sec1(data) {
        let uncompressed = point.to_uncompressed();
        if data.len() == 65 {
            assert_eq!(&uncompressed[..], data, "uncompressed keys are canonical");
        } else {
            assert_eq!(&uncompressed[1..33], &data[1..], "x survives decompression");
        }
        assert_eq!(Point::from_sec1(&uncompressed), Ok(point));
    }
    if let Ok(signature) = Signature::from_bytes(data) {
        let der = signature.to_der();
        if data.first() == Some(&0x30) && der == data {
            // Strict DER: the one encoding of r and s.
        } else {
            assert_eq!(data.len(), 64, "only raw signatures are not DER");
            assert_eq!(&signature.to_raw()[..], data, "raw signatures are r ‖ s");
        }
        assert_eq!(Signature::from_bytes(&der), Ok(signature));
    }
    if let Ok(record) = serde_json::from_slice::<serde_json::Value>(data)
        && let Ok(item) = Sm2Item::from_json(&record)
    {
        assert_eq!(Sm2Item::from_json(&item.to_json()), Ok(item.clone()));
        let _ = item.decode(&SignerCache::new(4, 1)).map(|d| d.verify());
    }
});
