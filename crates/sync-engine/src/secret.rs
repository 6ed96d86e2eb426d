//! API keys as a type that cannot leak by accident.
//!
//! An Immich API key grants full access to someone's photo library. It must never reach a log
//! line, an event, an error message or a panic message, so it lives in [`ApiKey`], whose `Debug`
//! and `Display` print a fixed mask. The only way to read the secret is [`ApiKey::expose`], which
//! is called exactly where the key is put into the `x-api-key` header.

use std::fmt;

/// An Immich API key. Printing it shows `ApiKey(****)`, never the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a secret, trimming the whitespace people copy along with it.
    pub fn new(secret: impl Into<String>) -> Self {
        let secret: String = secret.into();
        Self(secret.trim().to_owned())
    }

    /// The secret itself, for the `x-api-key` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the key is empty after trimming (never valid).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A mask safe to show in the UI: the last four characters only, e.g. `••••3f9a`.
    pub fn masked(&self) -> String {
        let tail: String = self
            .0
            .chars()
            .rev()
            .take(4)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if self.0.chars().count() <= 8 {
            "••••".to_owned()
        } else {
            format!("••••{tail}")
        }
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(****)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printing_a_key_never_shows_the_secret() {
        let key = ApiKey::new("  s3cr3t-key-value-1234\n");
        assert_eq!(
            key.expose(),
            "s3cr3t-key-value-1234",
            "whitespace is trimmed"
        );
        for shown in [format!("{key:?}"), format!("{key}"), key.masked()] {
            assert!(!shown.contains("s3cr3t"), "secret leaked in {shown}");
        }
        assert_eq!(key.masked(), "••••1234");
        assert_eq!(
            ApiKey::new("short").masked(),
            "••••",
            "short keys show no characters"
        );
    }
}
