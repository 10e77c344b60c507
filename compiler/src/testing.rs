//! What tests of every crate share and the compiler's own tests need: the fixed day every
//! test builds on (so that exemption expiry does not change with the calendar), the fuzzers'
//! punctuation, the SyncSet guardrailc writes. Defined here, in the crate every test reaches,
//! so each exists once; `guardrailc_testkit::test_support` re-exports them.

use serde_json::{json, Value};

/// The day tests build on.
pub const TODAY: (u16, u8, u8) = (2026, 11, 28);
/// [`TODAY`] as `guardrailc` reads it from `GUARDRAILC_TODAY`.
pub const TODAY_ISO: &str = "2026-11-28";

/// The language's brackets, quotes and separators and two of its comparisons: what the
/// compiler's and the command line's random inputs are mostly made of, beside their own
/// pieces, so that they reach deep into the parsers.
pub const FUZZ_PUNCTUATION: &[&str] = &[
    "{", "}", "[", "]", "(", ")", "\"", "\\", ",", ":", ".", "==", "!=",
];

/// The Gatekeeper `SyncSet` guardrailc writes for environment `env`, whose guardrails
/// `readers` (names joined by commas) read the namespace object from `data.inventory`.
pub fn namespace_sync_set(env: &str, readers: &str) -> Value {
    json!({
        "apiVersion": "syncset.gatekeeper.sh/v1alpha1",
        "kind": "SyncSet",
        "metadata": {
            "name": "guardrailc",
            "labels": {
                "app.kubernetes.io/managed-by": "guardrailc",
                "guardrailc.dev/environment": env,
            },
            "annotations": { "guardrailc.dev/guardrails": readers },
        },
        "spec": { "gvks": [{ "group": "", "version": "v1", "kind": "Namespace" }] },
    })
}
