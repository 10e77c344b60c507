//! Kubernetes label selectors (`matchLabels` and `matchExpressions`), as both VAP match
//! constraints and Gatekeeper constraints use them.
//!
//! Semantics follow `metav1.LabelSelectorAsSelector`: all requirements are ANDed, an empty
//! selector matches everything, `In`/`NotIn` need values, `Exists`/`DoesNotExist` take none.
//! <https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors>

use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Requirement {
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    DoesNotExist(String),
}

impl LabelSelector {
    /// Reads a selector from its JSON form; `where_` names it in errors.
    pub fn parse(value: &Value, where_: &str) -> Result<LabelSelector, String> {
        let mut requirements = Vec::new();
        if let Some(labels) = value.get("matchLabels") {
            let labels = labels
                .as_object()
                .ok_or_else(|| format!("`{where_}.matchLabels` is not a map"))?;
            for (key, wanted) in labels {
                let wanted = wanted
                    .as_str()
                    .ok_or_else(|| format!("`{where_}.matchLabels.{key}` is not a string"))?;
                requirements.push(Requirement::In(key.clone(), vec![wanted.to_string()]));
            }
        }
        if let Some(expressions) = value.get("matchExpressions") {
            let expressions = expressions
                .as_array()
                .ok_or_else(|| format!("`{where_}.matchExpressions` is not a list"))?;
            for expression in expressions {
                requirements.push(parse_requirement(expression, where_)?);
            }
        }
        Ok(LabelSelector { requirements })
    }

    pub fn matches(&self, labels: &[(&str, &str)]) -> bool {
        let value_of = |key: &str| labels.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        self.requirements
            .iter()
            .all(|requirement| match requirement {
                Requirement::In(key, values) => {
                    value_of(key).is_some_and(|v| values.iter().any(|w| w == v))
                }
                Requirement::NotIn(key, values) => {
                    value_of(key).is_none_or(|v| values.iter().all(|w| w != v))
                }
                Requirement::Exists(key) => value_of(key).is_some(),
                Requirement::DoesNotExist(key) => value_of(key).is_none(),
            })
    }

    /// Whether the selector has no requirement, and so selects everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }
}

fn parse_requirement(expression: &Value, where_: &str) -> Result<Requirement, String> {
    let key = expression
        .get("key")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("a `{where_}.matchExpressions` entry has no `key`"))?
        .to_string();
    let operator = expression
        .get("operator")
        .and_then(Value::as_str)
        .ok_or_else(|| format!("the `{where_}` expression on `{key}` has no `operator`"))?;
    let values: Vec<String> = match expression.get("values") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(values)) => values
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    format!("the `{where_}` expression on `{key}` has a value that is not a string")
                })
            })
            .collect::<Result<_, _>>()?,
        Some(_) => {
            return Err(format!(
                "the `{where_}` expression on `{key}` has `values` that are not a list"
            ))
        }
    };
    let needs_values = match operator {
        "In" | "NotIn" => true,
        "Exists" | "DoesNotExist" => false,
        other => {
            return Err(format!(
                "unknown label selector operator `{other}` in `{where_}`"
            ))
        }
    };
    if needs_values == values.is_empty() {
        return Err(if needs_values {
            format!("the `{where_}` expression `{operator}` on `{key}` needs values")
        } else {
            format!("the `{where_}` expression `{operator}` on `{key}` takes no values")
        });
    }
    Ok(match operator {
        "In" => Requirement::In(key, values),
        "NotIn" => Requirement::NotIn(key, values),
        "Exists" => Requirement::Exists(key),
        _ => Requirement::DoesNotExist(key),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn selector(value: Value) -> LabelSelector {
        LabelSelector::parse(&value, "selector").expect("test selectors are valid")
    }

    #[test]
    fn empty_selector_matches_everything() {
        assert!(selector(json!({})).matches(&[]));
        assert!(selector(json!({})).is_empty());
    }

    #[test]
    fn requirements_are_anded() {
        let s = selector(json!({
            "matchLabels": {"team": "a"},
            "matchExpressions": [
                {"key": "env", "operator": "In", "values": ["prod", "stage"]},
                {"key": "legacy", "operator": "DoesNotExist"}
            ]
        }));
        assert!(s.matches(&[("team", "a"), ("env", "prod")]));
        assert!(!s.matches(&[("team", "a"), ("env", "dev")]));
        assert!(!s.matches(&[("team", "b"), ("env", "prod")]));
        assert!(!s.matches(&[("team", "a"), ("env", "prod"), ("legacy", "")]));
    }

    #[test]
    fn not_in_matches_absent_keys() {
        let s = selector(
            json!({"matchExpressions": [{"key": "env", "operator": "NotIn", "values": ["prod"]}]}),
        );
        assert!(s.matches(&[]));
        assert!(s.matches(&[("env", "dev")]));
        assert!(!s.matches(&[("env", "prod")]));
    }

    #[test]
    fn rejects_malformed_expressions() {
        let err = LabelSelector::parse(
            &json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}),
            "objectSelector",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "the `objectSelector` expression `Exists` on `a` takes no values"
        );
        let err = LabelSelector::parse(
            &json!({"matchExpressions": [{"key": "a", "operator": "Like", "values": ["x"]}]}),
            "objectSelector",
        )
        .unwrap_err();
        assert_eq!(
            err,
            "unknown label selector operator `Like` in `objectSelector`"
        );
    }
}
