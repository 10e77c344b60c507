//! Target Kubernetes versions and the CEL library functions each one accepts.

use serde::Serialize;

/// A Kubernetes minor version of the 1.x line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct KubeVersion {
    pub minor: u32,
}

impl KubeVersion {
    /// ValidatingAdmissionPolicy went GA (admissionregistration.k8s.io/v1) in 1.30, so it is
    /// the oldest version the `vap` target can serve, and the default.
    pub const OLDEST: KubeVersion = KubeVersion { minor: 30 };
    pub const DEFAULT: KubeVersion = KubeVersion::OLDEST;
    /// The newest minor whose API schema we embed.
    pub const NEWEST: KubeVersion = KubeVersion { minor: 35 };

    /// Parses `1.30` or `v1.30` (a patch part, `1.30.2`, is accepted and ignored).
    pub fn parse(text: &str) -> Option<KubeVersion> {
        let text = text.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let mut parts = text.split('.');
        if parts.next()? != "1" {
            return None;
        }
        let minor = parts.next()?.parse().ok()?;
        if let Some(patch) = parts.next() {
            patch.parse::<u32>().ok()?;
        }
        if parts.next().is_some() {
            return None;
        }
        Some(KubeVersion { minor })
    }
}

impl std::fmt::Display for KubeVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "1.{}", self.minor)
    }
}

/// A group of Kubernetes CEL library functions, each accepted by the API server from a
/// given minor version. The CEL backend asks [`CelLibrary::available`] before it prints a
/// function from the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum CelLibrary {
    /// `quantity()`, `isQuantity()`, `compareTo` … (Kubernetes quantity library).
    Quantity,
    /// CEL strings extension version 2 (`lowerAscii`, `join`, `split` …).
    StringsV2,
    /// Kubernetes list library (`isSorted`, `sum`, `indexOf` …).
    Lists,
    /// Kubernetes regex library (`find`, `findAll`).
    Regex,
    /// Optional types (`?.`, `orValue`).
    Optionals,
    /// `ip()`, `cidr()` (Kubernetes 1.31).
    IpCidr,
    /// strings extension `format`: accepted from 1.30 (engine-facts/vap-compile.json,
    /// `strings.format`); the named formats of `format.named` come in 1.32.
    Format,
    /// `semver()` (Kubernetes 1.34).
    Semver,
}

impl CelLibrary {
    /// The first minor version whose API server accepts the library in admission policies.
    pub fn since(self) -> KubeVersion {
        let minor = match self {
            CelLibrary::Quantity
            | CelLibrary::StringsV2
            | CelLibrary::Lists
            | CelLibrary::Regex
            | CelLibrary::Optionals
            | CelLibrary::Format => 30,
            CelLibrary::IpCidr => 31,
            CelLibrary::Semver => 34,
        };
        KubeVersion { minor }
    }

    pub fn available(self, version: KubeVersion) -> bool {
        version >= self.since()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(KubeVersion::parse("1.30"), Some(KubeVersion { minor: 30 }));
        assert_eq!(
            KubeVersion::parse("v1.31.4"),
            Some(KubeVersion { minor: 31 })
        );
        assert_eq!(KubeVersion::parse("2.1"), None);
        assert_eq!(KubeVersion::parse("1"), None);
        assert_eq!(KubeVersion::parse("1.x"), None);
        assert_eq!(KubeVersion::parse("1.30.1.2"), None);
    }

    #[test]
    fn libraries_gate_by_version() {
        assert!(CelLibrary::Quantity.available(KubeVersion::DEFAULT));
        assert!(!CelLibrary::Semver.available(KubeVersion::DEFAULT));
        assert!(CelLibrary::Semver.available(KubeVersion { minor: 34 }));
    }
}
