//! snarkjs JSON (`verification_key.json`, `proof.json`, `public.json`) for the curve
//! `bls12381`: decimal strings; G1 points `[x, y, z]`, G2 points
//! `[[x.c0, x.c1], [y.c0, y.c1], [z.c0, z.c1]]`, in affine form (z = 1) or the point at
//! infinity (z = 0).

use crate::curves::bls12_381::{G1Affine, G2Affine};
use serde_json::Value;

use super::FormatError;
use crate::curves::bls12_381 as points;
use crate::groth16::scalar::decimal_be;
use crate::groth16::{Proof, VerifyingKey, parse_decimal};

/// The base field modulus p, big-endian.
const P: [u8; 48] = [
    0x1a, 0x01, 0x11, 0xea, 0x39, 0x7f, 0xe6, 0x9a, 0x4b, 0x1b, 0xa7, 0xb6, 0x43, 0x4b, 0xac, 0xd7,
    0x64, 0x77, 0x4b, 0x84, 0xf3, 0x85, 0x12, 0xbf, 0x67, 0x30, 0xd2, 0xa0, 0xf6, 0xb0, 0xf6, 0x24,
    0x1e, 0xab, 0xff, 0xfe, 0xb1, 0x53, 0xff, 0xff, 0xb9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xaa, 0xab,
];

fn parse_json(bytes: &[u8]) -> Result<serde_json::Map<String, Value>, FormatError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(FormatError::NotObject),
        Err(e) => Err(FormatError::Json(e.to_string())),
    }
}

/// The length of the key's `IC` array (after the header: a key for another curve says so).
pub fn ic_points(bytes: &[u8]) -> Result<usize, FormatError> {
    let obj = parse_json(bytes)?;
    check_header(&obj)?;
    field(&obj, "IC")?
        .as_array()
        .map(Vec::len)
        .ok_or_else(|| FormatError::NotArray {
            at: "IC".into(),
            len: None,
        })
}

/// `protocol` and `curve`, where present, must say groth16 on BLS12-381.
fn check_header(obj: &serde_json::Map<String, Value>) -> Result<(), FormatError> {
    if let Some(protocol) = obj.get("protocol")
        && protocol != "groth16"
    {
        return Err(FormatError::Protocol(protocol.to_string()));
    }
    match obj.get("curve") {
        None => Ok(()),
        Some(c) if c == "bls12381" => Ok(()),
        Some(c) => Err(FormatError::Curve(c.to_string())),
    }
}

fn field<'a>(
    obj: &'a serde_json::Map<String, Value>,
    name: &'static str,
) -> Result<&'a Value, FormatError> {
    obj.get(name).ok_or(FormatError::MissingField(name))
}

fn decimal_str<'a>(v: &'a Value, what: &str) -> Result<&'a str, FormatError> {
    v.as_str().ok_or_else(|| FormatError::NotString {
        at: what.to_string(),
        got: v.to_string(),
    })
}

/// A base field element: a decimal string below p.
fn fp(v: &Value, what: &str) -> Result<[u8; 48], FormatError> {
    let text = decimal_str(v, what)?;
    match decimal_be::<48, 6>(text) {
        Some(x) if x < P => Ok(x),
        _ => Err(FormatError::NotFieldElement {
            at: what.to_string(),
            text: text.to_string(),
        }),
    }
}

fn array<'a>(v: &'a Value, len: usize, what: &str) -> Result<&'a [Value], FormatError> {
    match v.as_array() {
        Some(a) if a.len() == len => Ok(a),
        _ => Err(FormatError::NotArray {
            at: what.to_string(),
            len: Some(len),
        }),
    }
}

/// The field element 1 (as the first coordinate of an extension element, the rest zero).
fn one() -> [u8; 48] {
    let mut one = [0u8; 48];
    one[47] = 1;
    one
}

/// Whether (x, y, z) is an affine point (z = 1) or the point at infinity, which snarkjs
/// writes as x = 0, y = 1, z = 0. Any other form is rejected.
fn is_affine(
    x: &[[u8; 48]],
    y: &[[u8; 48]],
    z: &[[u8; 48]],
    what: &str,
) -> Result<bool, FormatError> {
    let is =
        |c: &[[u8; 48]], first: [u8; 48]| c[0] == first && c[1..].iter().all(|e| *e == [0; 48]);
    if is(z, one()) {
        Ok(true)
    } else if is(z, [0; 48]) && is(x, [0; 48]) && is(y, one()) {
        Ok(false)
    } else {
        Err(FormatError::NotAffine {
            at: what.to_string(),
        })
    }
}

fn g1(v: &Value, what: &str) -> Result<G1Affine, FormatError> {
    let c = array(v, 3, what)?;
    let (x, y, z) = (fp(&c[0], what)?, fp(&c[1], what)?, fp(&c[2], what)?);
    let mut encoding = [0u8; 96];
    if is_affine(&[x], &[y], &[z], what)? {
        encoding[..48].copy_from_slice(&x);
        encoding[48..].copy_from_slice(&y);
    } else {
        encoding[0] = 0x40;
    }
    points::decode_g1(&encoding).map_err(|e| FormatError::point(what, e))
}

fn g2(v: &Value, what: &str) -> Result<G2Affine, FormatError> {
    let c = array(v, 3, what)?;
    let pair = |i: usize| -> Result<[[u8; 48]; 2], FormatError> {
        let p = array(&c[i], 2, what)?;
        Ok([fp(&p[0], what)?, fp(&p[1], what)?])
    };
    let (x, y, z) = (pair(0)?, pair(1)?, pair(2)?);
    let mut encoding = [0u8; 192];
    if is_affine(&x, &y, &z, what)? {
        // zcash order: c1 before c0.
        for (i, part) in [x[1], x[0], y[1], y[0]].iter().enumerate() {
            encoding[i * 48..(i + 1) * 48].copy_from_slice(part);
        }
    } else {
        encoding[0] = 0x40;
    }
    points::decode_g2(&encoding).map_err(|e| FormatError::point(what, e))
}

pub fn parse_key(bytes: &[u8]) -> Result<VerifyingKey, FormatError> {
    let obj = parse_json(bytes)?;
    check_header(&obj)?;
    let ic_values = field(&obj, "IC")?
        .as_array()
        .ok_or_else(|| FormatError::NotArray {
            at: "IC".into(),
            len: None,
        })?;
    let ic = ic_values
        .iter()
        .enumerate()
        .map(|(i, v)| g1(v, &format!("IC[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(n) = obj.get("nPublic")
        && n.as_u64() != ic.len().checked_sub(1).map(|k| k as u64)
    {
        return Err(FormatError::NPublic {
            n: n.to_string(),
            ic: ic.len(),
        });
    }
    Ok(VerifyingKey {
        alpha_g1: g1(field(&obj, "vk_alpha_1")?, "vk_alpha_1")?,
        beta_g2: g2(field(&obj, "vk_beta_2")?, "vk_beta_2")?,
        gamma_g2: g2(field(&obj, "vk_gamma_2")?, "vk_gamma_2")?,
        delta_g2: g2(field(&obj, "vk_delta_2")?, "vk_delta_2")?,
        ic,
    })
}

pub fn parse_proof(bytes: &[u8]) -> Result<Proof, FormatError> {
    let obj = parse_json(bytes)?;
    check_header(&obj)?;
    Ok(Proof {
        a: g1(field(&obj, "pi_a")?, "pi_a")?,
        b: g2(field(&obj, "pi_b")?, "pi_b")?,
        c: g1(field(&obj, "pi_c")?, "pi_c")?,
    })
}

/// `public.json`: a JSON array of public inputs (see [`public_inputs_from_json`]).
pub fn parse_public_json(bytes: &[u8]) -> Result<Vec<[u8; 32]>, FormatError> {
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| FormatError::Json(e.to_string()))?;
    public_inputs_from_json(&value)
}

/// Public inputs from a JSON array of decimal strings (as snarkjs writes them) or 0x-hex
/// strings, as 32-byte big-endian integers. Values of 2^256 or more are rejected here;
/// values from r up are rejected when verified.
pub fn public_inputs_from_json(value: &Value) -> Result<Vec<[u8; 32]>, FormatError> {
    let items = value.as_array().ok_or(FormatError::InputsNotArray)?;
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let what = format!("public[{i}]");
            let text = decimal_str(item, &what)?;
            match text.strip_prefix("0x") {
                Some(digits) => hex_be32(digits).ok_or_else(|| FormatError::NotHex32 {
                    at: what.clone(),
                    text: text.to_string(),
                }),
                None => parse_decimal(text).ok_or_else(|| FormatError::NotDecimal256 {
                    at: what.clone(),
                    text: text.to_string(),
                }),
            }
        })
        .collect()
}

/// Hex digits of at most 32 bytes, left-padded to 32.
fn hex_be32(digits: &str) -> Option<[u8; 32]> {
    let digits = if digits.len() % 2 == 1 {
        format!("0{digits}")
    } else {
        digits.to_string()
    };
    let bytes = hex::decode(digits).ok().filter(|b| b.len() <= 32)?;
    let mut out = [0u8; 32];
    out[32 - bytes.len()..].copy_from_slice(&bytes);
    Some(out)
}
