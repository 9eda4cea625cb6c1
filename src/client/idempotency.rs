//! Idempotency keys: a key belongs to one caller (its scope) and to one
//! request (its fingerprint). The same key from another caller is another
//! key; the same key from the same caller with another request is refused
//! ([`crate::Error::IdempotencyKeyReused`]), as Stripe does.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::job::NewJob;

/// The scope of callers that present no credentials.
pub const ANONYMOUS: &str = "anonymous";

/// An `Idempotency-Key` with the caller it belongs to and the request it
/// is bound to. Keys are honoured for 24 hours, then pruned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The key itself, 1 to 255 characters.
    pub key: String,
    /// Whose key it is (1 to 255 characters): keys of different scopes
    /// never meet. The web node uses [`IdempotencyKey::token_scope`] of
    /// the bearer token, or [`ANONYMOUS`]. Default [`ANONYMOUS`].
    pub scope: String,
    /// A digest of the request the key was first used with; `None`: a
    /// digest of the job given to [`crate::Client::submit`].
    pub fingerprint: Option<String>,
}

impl IdempotencyKey {
    /// `key` in the [`ANONYMOUS`] scope, bound to the job it is used with.
    pub fn new(key: impl Into<String>) -> Self {
        IdempotencyKey {
            key: key.into(),
            scope: ANONYMOUS.to_string(),
            fingerprint: None,
        }
    }

    /// The key in `scope` instead.
    pub fn scoped(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// The key bound to `request` (any JSON: object keys are sorted before
    /// hashing, so their order does not matter) instead of to the job.
    pub fn bound_to(mut self, request: &serde_json::Value) -> Self {
        self.fingerprint = Some(fingerprint(request));
        self
    }

    /// The scope of a caller identified by a bearer token: a digest of the
    /// token, so the database never holds the token itself.
    pub fn token_scope(token: &str) -> String {
        format!("token:{}", hex(&Sha256::digest(token.as_bytes())))
    }

    /// Checks the lengths (the database's rule, in weir's words).
    pub(super) fn check(&self) -> Result<()> {
        if self.key.is_empty() || self.key.len() > 255 {
            return Err(Error::InvalidArgument(
                "Idempotency-Key must be 1 to 255 characters".into(),
            ));
        }
        if self.scope.is_empty() || self.scope.len() > 255 {
            return Err(Error::InvalidArgument(
                "an idempotency scope must be 1 to 255 characters".into(),
            ));
        }
        super::ops::no_nul("Idempotency-Key", &self.key)?;
        super::ops::no_nul("idempotency scope", &self.scope)
    }

    /// The fingerprint to store and compare: the given one, else the job's.
    pub(super) fn fingerprint_of(&self, job: &NewJob) -> Result<String> {
        match &self.fingerprint {
            Some(f) => Ok(f.clone()),
            None => Ok(fingerprint(&serde_json::to_value(job)?)),
        }
    }
}

/// SHA-256 of `value` as canonical JSON (object keys sorted), in hex.
pub fn fingerprint(value: &serde_json::Value) -> String {
    let mut text = String::new();
    canonical(value, &mut text);
    hex(&Sha256::digest(text.as_bytes()))
}

fn canonical(value: &serde_json::Value, out: &mut String) {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::Value::String(k.clone()).to_string());
                out.push(':');
                canonical(v, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fingerprints_ignore_key_order_but_not_values() {
        let a = json!({"kind": "x", "args": {"a": 1, "b": [1, {"y": 2, "x": 1}]}});
        let b = json!({"args": {"b": [1, {"x": 1, "y": 2}], "a": 1}, "kind": "x"});
        let c = json!({"kind": "x", "args": {"a": 2, "b": [1, {"x": 1, "y": 2}]}});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }

    #[test]
    fn token_scopes_never_hold_the_token() {
        let scope = IdempotencyKey::token_scope("s3cret");
        assert!(scope.starts_with("token:") && !scope.contains("s3cret"));
        assert_eq!(scope.len(), "token:".len() + 64);
        assert_ne!(scope, IdempotencyKey::token_scope("other"));
    }
}
