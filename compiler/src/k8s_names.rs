//! The names Kubernetes gives things, and what makes each valid: DNS labels (namespaces,
//! guardrail ids), label keys and values, and the API group, version and resource of a custom
//! resource. One home for these tests, used by the checker, the config and the testkit.

/// A DNS label (RFC 1123): at most 63 lowercase letters, digits and `-`, starting and ending
/// with a letter or digit. Namespaces and guardrail ids are DNS labels.
pub fn is_dns_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// The name part of a label key, or a label value: at most 63 letters, digits, `-`, `_` and
/// `.`, starting and ending with a letter or digit.
pub fn is_label_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name.as_bytes()[name.len() - 1].is_ascii_alphanumeric()
}

/// A label key: a name, optionally after a DNS subdomain prefix and `/`.
pub fn is_label_key(key: &str) -> bool {
    match key.split_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(is_dns_label)
                && is_label_name(name)
        }
        None => is_label_name(key),
    }
}

/// A label value: empty, or a label name.
pub fn is_label_value(value: &str) -> bool {
    value.is_empty() || is_label_name(value)
}

/// A Kubernetes API group: a DNS subdomain with at least one dot (`example.com`), as the
/// API server requires of custom resources.
pub fn is_api_group(group: &str) -> bool {
    group.len() <= 253 && group.contains('.') && group.split('.').all(is_dns_label)
}

/// An API version as Kubernetes orders them: `v1`, `v2beta1`, `v1alpha3`.
pub fn is_api_version(version: &str) -> bool {
    let Some(rest) = version.strip_prefix('v') else {
        return false;
    };
    let number = |text: &str| {
        !text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit())
    };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let (major, stage) = rest.split_at(digits);
    number(major)
        && (stage.is_empty()
            || ["alpha", "beta"]
                .iter()
                .any(|s| stage.strip_prefix(s).is_some_and(number)))
}

/// A resource name: a lowercase DNS label that starts with a letter (`widgets`).
pub fn is_resource_name(resource: &str) -> bool {
    is_dns_label(resource) && resource.starts_with(|c: char| c.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_kubernetes_rules() {
        assert!(is_dns_label("kube-system") && !is_dns_label("-a") && !is_dns_label("A"));
        assert!(!is_dns_label(&"a".repeat(64)) && !is_dns_label(""));
        assert!(is_label_key("example.com/tier") && is_label_key("app"));
        assert!(!is_label_key("/x") && !is_label_key("Example_Com/x"));
        assert!(is_label_value("") && is_label_value("web-1") && !is_label_value("-web"));
        assert!(is_api_group("example.com") && !is_api_group("example"));
        assert!(is_api_version("v1") && is_api_version("v2beta1") && !is_api_version("v01"));
        assert!(is_resource_name("widgets") && !is_resource_name("1widgets"));
    }
}
