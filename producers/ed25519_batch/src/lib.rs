//! One call that checks many Ed25519 signatures at once (ed25519-dalek's batch
//! verification: one multiscalar multiplication instead of one per signature).
//!
//! The processor checks every assessment event's engine signature; done one at a time
//! that was the largest single cost per event (README, performance). A batch answers
//! only "all valid" or "not all valid": the caller bisects to find the bad ones.

use ed25519_dalek::{Signature, VerifyingKey};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// True when every (message, signature, public key) triple verifies, False when at
/// least one does not. Raises ValueError on a signature that is not 64 bytes, a key
/// that is not 32 bytes or not a curve point, or lists of different lengths. The
/// interpreter lock is released while the curve arithmetic runs.
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
    let mut keys = Vec::with_capacity(public_keys.len());
    for key in &public_keys {
        let bytes = fixed(key, "an Ed25519 public key has 32 bytes")?;
        keys.push(
            VerifyingKey::from_bytes(bytes)
                .map_err(|_| PyValueError::new_err("not an Ed25519 public key"))?,
        );
    }
    let msgs: Vec<&[u8]> = messages.iter().map(|m| m.as_bytes()).collect();
    Ok(py.allow_threads(|| ed25519_dalek::verify_batch(&msgs, &sigs, &keys).is_ok()))
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
