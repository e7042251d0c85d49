use super::signing::SecretKey;
use super::*;
use crate::curves::sm2p256v1::{OddMultiples, Point, Scalar};

fn hex32(s: &str) -> [u8; 32] {
    hex::decode(s).unwrap().try_into().unwrap()
}

// GM/T 0003.5-2012 Annex A: the signature example on the recommended curve.
const D: &str = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8";
const PUBLIC_KEY: &str = "0409F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020\
                          CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13";
const Z_A: &str = "B2E14C5C79C6DF5B85F4FE7ED8DB7A262B9DA7E07CCB0EA9F4747B8CCDA8A4F3";
const E: &str = "F0B43E94BA45ACCAACE692ED534382EB17E6AB5A19CE7B31F4486FDFC0D28640";
const K: &str = "59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21";
const R: &str = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3";
const S: &str = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA";
const MESSAGE: &[u8] = b"message digest";

fn annex_signature() -> Vec<u8> {
    [hex32(R), hex32(S)].concat()
}

fn annex_item() -> Sm2Item {
    Sm2Item {
        public_key: hex::decode(PUBLIC_KEY).unwrap(),
        signed: Signed::Message(MESSAGE.to_vec()),
        signature: annex_signature(),
        id: None,
    }
}

fn verify(item: &Sm2Item) -> Result<bool, InputError> {
    item.decode(&SignerCache::new(16, 4)).map(|d| d.verify())
}

#[test]
fn the_standards_example_signs_and_verifies() {
    let secret = SecretKey::from_be_bytes(&hex32(D)).unwrap();
    let key = secret.public_key();
    assert_eq!(
        key.to_uncompressed().to_vec(),
        hex::decode(PUBLIC_KEY).unwrap()
    );
    assert_eq!(signer::z(DEFAULT_ID, &key), hex32(Z_A));
    assert_eq!(message_digest(&hex32(Z_A), MESSAGE), hex32(E));
    let k = Scalar::from_be_bytes(&hex32(K)).unwrap();
    let signature = secret.sign_digest(&hex32(E), &k).unwrap();
    assert_eq!(signature.to_raw().to_vec(), annex_signature());

    assert_eq!(verify(&annex_item()), Ok(true));
    // The same as DER, with the digest given, with the key compressed.
    let der = Signature::from_bytes(&annex_signature()).unwrap().to_der();
    assert_eq!(der.len(), 72);
    let mut item = annex_item();
    item.signature = der;
    assert_eq!(verify(&item), Ok(true));
    item.signed = Signed::Digest(hex32(E).to_vec());
    assert_eq!(verify(&item), Ok(true));
    let mut compressed = vec![0x03];
    compressed.extend_from_slice(&hex::decode(&PUBLIC_KEY[2..66]).unwrap());
    item.public_key = compressed;
    // y of the example's key is odd (…13): prefix 03.
    assert_eq!(verify(&item), Ok(true));
    item.public_key[0] = 0x02;
    assert_eq!(verify(&item), Ok(false), "the other y is another key");
}

#[test]
fn anything_changed_is_invalid() {
    let mut message = annex_item();
    message.signed = Signed::Message(b"message digesT".to_vec());
    assert_eq!(verify(&message), Ok(false));

    let mut id = annex_item();
    id.id = Some(b"1234567812345679".to_vec());
    assert_eq!(verify(&id), Ok(false));
    id.id = Some(DEFAULT_ID.to_vec());
    assert_eq!(verify(&id), Ok(true), "the default ID given explicitly");

    let other_key = SecretKey::from_seed(b"other")
        .public_key()
        .to_uncompressed();
    let mut key = annex_item();
    key.public_key = other_key.to_vec();
    assert_eq!(verify(&key), Ok(false));

    for byte in [0, 31, 32, 63] {
        let mut signature = annex_item();
        signature.signature[byte] ^= 0x01;
        assert_eq!(verify(&signature), Ok(false), "byte {byte} flipped");
    }

    let mut digest = annex_item();
    let mut e = hex32(E);
    e[31] ^= 1;
    digest.signed = Signed::Digest(e.to_vec());
    assert_eq!(verify(&digest), Ok(false));
}

#[test]
fn edge_cases_of_the_equation() {
    let secret = SecretKey::from_seed(b"edges");
    let multiples = OddMultiples::of(&secret.public_key());
    let e = [7u8; 32];
    // r + s = n: t = 0, refused whatever the key.
    let r = Scalar::reduce(&[5, 6, 7, 8]);
    let t_zero = Signature {
        r,
        s: Scalar::ZERO.sub(&r),
    };
    assert!(!verify_digest(|t| multiples.mul(t), &e, &t_zero));
    // e ≥ n is reduced mod n: a digest of n + e' verifies as e' does.
    let small_e = [0u8; 32];
    let k = Scalar::reduce(&[11, 0, 0, 0]);
    let signature = secret.sign_digest(&small_e, &k).unwrap();
    assert!(verify_digest(|t| multiples.mul(t), &small_e, &signature));
    assert!(verify_digest(
        |t| multiples.mul(t),
        &crate::curves::sm2p256v1::params::N,
        &signature
    ));
    // A key equal to G: [s]G + [t]G meets doublings inside the additions.
    let g = Point::generator();
    let one = SecretKey::from_be_bytes(&{
        let mut b = [0u8; 32];
        b[31] = 1;
        b
    })
    .unwrap();
    assert_eq!(one.public_key(), g);
    let g_multiples = OddMultiples::of(&g);
    for seed in 0..20u8 {
        let message = [seed; 3];
        let signature = one.sign(DEFAULT_ID, &message, b"g");
        let e = message_digest(&signer::z(DEFAULT_ID, &g), &message);
        assert!(verify_digest(|t| g_multiples.mul(t), &e, &signature));
    }
}

#[test]
fn a_point_whose_x_is_n_or_more_is_matched_by_x_minus_n() {
    // (e + x1) mod n = r with x1 ≥ n: no signature of a real key reaches it (p − n is
    // about 2^127), so the comparison is checked on a point with x in [n, p) found
    // directly: its x − n must match, its x must not be taken for r − e.
    use crate::curves::montgomery::{Modulus, add_limbs, sub_limbs};
    use crate::curves::sm2p256v1::{Affine, Fe, Jacobian, Order};
    let n = Order::P;
    let point = (1u64..)
        .find_map(|i| {
            let x = Fe::from_limbs(&add_limbs(&n, &[i, 0, 0, 0]).0)?;
            let y = Affine::y_squared(&x).sqrt()?;
            Some(Affine { x, y })
        })
        .unwrap();
    let x = point.x.to_limbs();
    let jacobian = Jacobian::from(&point)
        .double()
        .add(&Jacobian::from(&point.neg()));
    assert!(jacobian.has_x(&x), "2P − P = P");
    let x_minus_n = sub_limbs(&x, &n).0;
    assert!(!jacobian.has_x(&x_minus_n));
    // verify_digest's rule: v = x − n (the value mod n) matches through v + n.
    let (v_plus_n, carry) = add_limbs(&x_minus_n, &n);
    assert_eq!(carry, 0);
    assert!(jacobian.has_x(&v_plus_n));
}

#[test]
fn bad_items_name_the_field() {
    let cache = SignerCache::new(16, 4);
    let field = |item: &Sm2Item| item.decode(&cache).unwrap_err().field;
    let mut key = annex_item();
    key.public_key.truncate(64);
    assert_eq!(field(&key), Field::PublicKey);
    let mut signature = annex_item();
    signature.signature.push(0);
    assert_eq!(field(&signature), Field::Signature);
    let mut digest = annex_item();
    digest.signed = Signed::Digest(vec![0; 31]);
    assert_eq!(field(&digest), Field::Digest);
    let mut id = annex_item();
    id.id = Some(vec![b'a'; MAX_ID_BYTES + 1]);
    assert_eq!(field(&id), Field::Id);
    id.id = Some(vec![b'a'; MAX_ID_BYTES]);
    assert_eq!(id.decode(&cache).map(|d| d.verify()), Ok(false));
    id.id = Some(Vec::new());
    assert_eq!(id.decode(&cache).map(|d| d.verify()), Ok(false));
}

#[test]
fn records_round_trip_and_bad_ones_are_named() {
    let item = annex_item();
    assert_eq!(Sm2Item::from_json(&item.to_json()), Ok(item.clone()));
    let mut with_id = item.clone();
    with_id.id = Some(b"ALICE123@YAHOO.COM".to_vec());
    with_id.signed = Signed::Digest(vec![1; 32]);
    assert_eq!(Sm2Item::from_json(&with_id.to_json()), Ok(with_id));
    let both =
        serde_json::json!({"public_key":"0x04","message":"0x","digest":"0x","signature":"0x"});
    assert_eq!(
        Sm2Item::from_json(&both),
        Err(JsonError::Both("message", "digest"))
    );
    let neither = serde_json::json!({"public_key":"0x04","signature":"0x"});
    assert_eq!(
        Sm2Item::from_json(&neither),
        Err(JsonError::Missing("message"))
    );
    assert_eq!(
        Sm2Item::from_json(&serde_json::json!([1])),
        Err(JsonError::NotAnObject)
    );
}

#[test]
fn the_cache_keeps_one_signer_per_key_and_id_within_its_bound() {
    let cache = SignerCache::new(32, 4);
    let key = hex::decode(PUBLIC_KEY).unwrap();
    let first = cache.get_or_make(&key, DEFAULT_ID).unwrap();
    let again = cache.get_or_make(&key, DEFAULT_ID).unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    let other_id = cache.get_or_make(&key, b"other").unwrap();
    assert_ne!(first.z, other_id.z);
    assert_eq!(cache.len(), 2);
    for i in 0..200u32 {
        let key = SecretKey::from_seed(&i.to_be_bytes())
            .public_key()
            .to_uncompressed();
        cache.get_or_make(&key, DEFAULT_ID).unwrap();
    }
    assert!(cache.len() <= 32, "{} signers kept", cache.len());
    assert!(SignerCache::new(0, 4).get_or_make(&key, DEFAULT_ID).is_ok());
    assert!(SignerCache::new(0, 4).is_empty());
}

#[test]
fn a_signer_used_often_gets_a_table_within_the_budget_and_verifies_the_same() {
    let cache = SignerCache::new(64, 2);
    let secrets: Vec<SecretKey> = (0..3u8).map(|i| SecretKey::from_seed(&[i])).collect();
    let mut verdicts = Vec::new();
    for round in 0..2 * TABLE_AFTER_USES {
        for secret in &secrets {
            let message = [round as u8; 5];
            let mut item = Sm2Item {
                public_key: secret.public_key().to_uncompressed().to_vec(),
                signed: Signed::Message(message.to_vec()),
                signature: secret.sign(DEFAULT_ID, &message, b"t").to_der(),
                id: None,
            };
            verdicts.push(item.decode(&cache).unwrap().verify());
            // A wrong message under the same signer, table or not.
            item.signed = Signed::Message(b"other".to_vec());
            verdicts.push(!item.decode(&cache).unwrap().verify());
        }
    }
    assert!(verdicts.iter().all(|&ok| ok));
    let with_tables = secrets
        .iter()
        .filter(|s| {
            let key = s.public_key().to_uncompressed();
            cache.get_or_make(&key, DEFAULT_ID).unwrap().has_table()
        })
        .count();
    assert_eq!(with_tables, 2, "two tables lent, the third signer waits");
    // A signer outside a cache never builds one.
    let lone = Signer::new(&secrets[0].public_key().to_uncompressed(), DEFAULT_ID).unwrap();
    for _ in 0..2 * TABLE_AFTER_USES {
        lone.mul(&Scalar::ONE);
    }
    assert!(!lone.has_table());
}
