//! The one error for a setting given a name it does not take. A leaf module, so the
//! backends and the formats below the engine's error types can use it.

/// A name that is none of the values a setting takes: a backend, a key format, an
/// injected fault. Says what was given and what would have been accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {name:?}: expected {expected}")]
pub struct UnknownName {
    /// What the name should have named ("backend", "key format").
    pub what: &'static str,
    pub name: String,
    /// The accepted names, as a sentence ("auto, cpu, wgpu or cuda").
    pub expected: &'static str,
}

#[cfg(test)]
mod tests {
    use crate::backend::{BackendChoice, Fault};
    use crate::groth16::KeyFormat;

    /// Each setting names itself and what it takes, and keeps the name it was given.
    #[test]
    fn unknown_names_say_what_was_expected() {
        let backend = "gpu".parse::<BackendChoice>().unwrap_err();
        assert_eq!((backend.what, backend.name.as_str()), ("backend", "gpu"));
        assert_eq!(
            backend.to_string(),
            "unknown backend \"gpu\": expected auto, cpu, wgpu or cuda"
        );
        assert_eq!(
            "zcash2".parse::<KeyFormat>().unwrap_err().what,
            "key format"
        );
        assert_eq!("crash".parse::<Fault>().unwrap_err().what, "fault");
        assert_eq!("cuda".parse::<BackendChoice>(), Ok(BackendChoice::Cuda));
    }
}
