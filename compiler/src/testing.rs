//! The fixed day every test builds on, so that exemption expiry does not change with the
//! calendar. Defined here, in the crate every test reaches, so there is one such day;
//! `guardrailc_testkit::test_support` re-exports it.

/// The day tests build on.
pub const TODAY: (u16, u8, u8) = (2026, 11, 28);
/// [`TODAY`] as `guardrailc` reads it from `GUARDRAILC_TODAY`.
pub const TODAY_ISO: &str = "2026-11-28";
