//! One call that checks many Ed25519 signatures at once (ed25519-dalek's batch
//! verification: one multiscalar multiplication instead of one per signature).
//!
//! The processor checks every assessment event's engine signature; done one at a time
//! that was the largest single cost per event (README, performance). A batch answers
//! only "all valid" or "not all valid": the caller bisects to find the bad ones.

use std::collections::hash_map::{Entry, HashMap};

use ed25519_dalek::{Signature, VerifyingKey};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// True when every (message, signature, public key) triple verifies, False when at
/// least one does not. Raises ValueError on a signature that is not 64 bytes, a key
/// that is not 32 bytes or not a curve point, or lists of different lengths. The
/// interpreter lock is released while the curve arithmetic runs, decompressing the
/// keys included.
#[pyfunction]
fn verify_batch(
    py: Python<'_>,
    messages: Vec<Bound<'_, PyBytes>>,
    signatures: Vec<Bound<'_, PyBytes>>,
    public_keys: Vec<Bound<'_, PyBytes>>,
) -> PyResult<bool> {
    if messages.len() != signatures.len() || messages.len() != public_keys.len() {
        return Err(PyValueError::new_err(
            "messages, signatures and keys differ in number",
        ));
    }
    let mut sigs = Vec::with_capacity(signatures.len());
    for signature in &signatures {
        sigs.push(Signature::from_bytes(fixed(
            signature,
            "an Ed25519 signature has 64 bytes",
        )?));
    }
    let keys = public_keys
        .iter()
        .map(|key| fixed(key, "an Ed25519 public key has 32 bytes"))
        .collect::<PyResult<Vec<&[u8; 32]>>>()?;
    let msgs: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    py.allow_threads(|| {
        let points = curve_points(&keys)?;
        Ok(ed25519_dalek::verify_batch(&msgs, &sigs, &points).is_ok())
    })
    .map_err(|NotAKey| PyValueError::new_err("not an Ed25519 public key"))
}

struct NotAKey;

/// Each key as a curve point. Decompressing one costs about a fifth of what a signature
/// adds to a batch check, so each distinct key is decompressed once: a batch's events
/// mostly share a few engines' keys. (Under the interpreter lock, once per event, this
/// was a twentieth of the processor's lock time.)
fn curve_points(keys: &[&[u8; 32]]) -> Result<Vec<VerifyingKey>, NotAKey> {
    let mut distinct: HashMap<&[u8; 32], VerifyingKey> = HashMap::new();
    keys.iter()
        .map(|&bytes| match distinct.entry(bytes) {
            Entry::Occupied(known) => Ok(*known.get()),
            Entry::Vacant(new) => {
                Ok(*new.insert(VerifyingKey::from_bytes(bytes).map_err(|_| NotAKey)?))
            }
        })
        .collect()
}

/// The bytes as an array of exactly N, or ValueError(``wrong_length``).
fn fixed<'a, const N: usize>(
    bytes: &'a Bound<'_, PyBytes>,
    wrong_length: &'static str,
) -> PyResult<&'a [u8; N]> {
    bytes
        .as_bytes()
        .try_into()
        .map_err(|_| PyValueError::new_err(wrong_length))
}

#[pymodule]
fn credstream_ed25519_batch(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_function(wrap_pyfunction!(verify_batch, module)?)
}
