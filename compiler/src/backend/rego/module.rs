//! The module around the rules: the views every rule reads (operation, scope, exemptions, pod,
//! namespace) and one rule per guardrail rule.

use super::*;

/// The body lines that hold when the labels at `labels` (a reference) satisfy `selector`, as
/// Kubernetes reads a label selector: `NotIn` and `DoesNotExist` hold for a missing label,
/// and go through helper rules, since an inline `not` over an undefined label would be
/// undefined in OPA.
pub(super) fn selector_lines(
    selector: &LabelSelector,
    labels: &str,
    helpers: &mut HelperSink,
) -> Vec<BodyLine> {
    let label = |key: &str| format!("{labels}[{}]", string_literal(key));
    let values = |values: &[String]| -> String {
        let values: Vec<String> = values.iter().map(|value| string_literal(value)).collect();
        format!("{{{}}}", values.join(", "))
    };
    let mut lines = Vec::new();
    for (key, value) in &selector.match_labels {
        lines.push(BodyLine::Test(format!(
            "{} == {}",
            label(key),
            string_literal(value)
        )));
    }
    for requirement in &selector.match_expressions {
        let key = &requirement.key;
        let has_label = || vec![BodyLine::Test(format!("is_string({})", label(key)))];
        match requirement.operator {
            SelectorOperator::In => lines.push(BodyLine::Test(format!(
                "{} in {}",
                label(key),
                values(&requirement.values)
            ))),
            SelectorOperator::NotIn => {
                let call = helpers.define(
                    "in",
                    &[],
                    vec![vec![BodyLine::Test(format!(
                        "{} in {}",
                        label(key),
                        values(&requirement.values)
                    ))]],
                );
                lines.push(BodyLine::Test(format!("not {call}")));
            }
            SelectorOperator::Exists => lines.extend(has_label()),
            SelectorOperator::DoesNotExist => {
                let call = helpers.define("has", &[], vec![has_label()]);
                lines.push(BodyLine::Test(format!("not {call}")));
            }
        }
    }
    lines
}

pub(super) struct ModulePrinter<'p> {
    pub(super) policy: &'p Policy,
    pub(super) flavour: RegoFlavour,
    pub(super) errors: Vec<Diagnostic>,
}

impl ModulePrinter<'_> {
    pub(super) fn module(&mut self) -> String {
        let mut out = format!("package {}\n", package_name(self.policy));
        if self.flavour == RegoFlavour::Opa && !self.policy.params.is_empty() {
            out.push_str(&format!(
                "\n# Param values of the {} environment.\nparams := {{\n",
                self.policy.env
            ));
            for param in &self.policy.params {
                out.push_str(&format!(
                    "    {}: {},\n",
                    string_literal(&param.name),
                    literal_text(&param.value)
                ));
            }
            out.push_str("}\n");
        }
        self.operation_view(&mut out);
        self.scope_view(&mut out);
        self.exemptions(&mut out);
        self.pod_view(&mut out);
        self.namespace_view(&mut out);
        for rule in &self.policy.rules {
            let mut helpers = HelperSink::new(format!("rule_{}", rule.index));
            match self.rule(rule, &mut helpers) {
                Ok(text) => {
                    out.push('\n');
                    out.push_str(&text);
                    out.push_str(&helpers.definitions);
                }
                Err(inconsistency) => self.errors.push(inconsistency.at(rule.span)),
            }
        }
        // Defined when an exemption or a rule calls it (a message holding the text as well
        // only adds an unused function).
        if out.contains("quantity_value(") {
            out.push_str(&format!(
                concat!(
                    "\n# A Kubernetes quantity as a number: a quantity string (checked against the quantity\n",
                    "# syntax first, since units.parse raises on some malformed strings), or a JSON number,\n",
                    "# which a manifest may hold (`memory: 8589934592`) and the API server turns into a string.\n",
                    "quantity_value(x) := units.parse(x) if {{\n",
                    "    is_string(x)\n",
                    "    regex.match({pattern}, x)\n",
                    "}}\n",
                    "\n",
                    "quantity_value(x) := x if is_number(x)\n",
                ),
                pattern = string_literal(QUANTITY_PATTERN)
            ));
        }
        out
    }

    /// Gatekeeper only: whether the review's operation is one the guardrail matches. An
    /// admission review names its operation; Gatekeeper's audit and `gator test` review objects
    /// that exist, with `operation` empty (engine-facts/gatekeeper-review.json), which counts
    /// as CREATE/UPDATE: the rules of a guardrail matching either apply to existing objects.
    pub(super) fn operation_view(&self, out: &mut String) {
        if self.flavour != RegoFlavour::Gatekeeper {
            return;
        }
        let operations = &self.policy.matcher.operations;
        let listed: Vec<String> = operations
            .iter()
            .map(|operation| string_literal(operation.as_str()))
            .collect();
        out.push_str(&format!(
            "\n# The operations the guardrail matches.\noperation_applies if input.review.operation in {{{}}}\n",
            listed.join(", ")
        ));
        if operations
            .iter()
            .any(|operation| matches!(operation, Operation::Create | Operation::Update))
        {
            out.push_str(concat!(
                "\n# Audit and gator review existing objects, with no operation.\n",
                "operation_applies if object.get(input.review, \"operation\", \"\") == \"\"\n",
            ));
        }
    }

    /// Plain OPA only: the guardrail's match, applied to the object itself, since conftest and
    /// `opa eval` get no admission request and no Constraint or binding selects the object.
    /// Kinds by group and kind; `namespaces` and `exclude namespaces` on the object's
    /// namespace (`default` when a namespaced object names none; a Namespace is its own);
    /// the object selector on the object's labels. The namespace selector needs the
    /// namespace's labels, which a manifest does not carry: it is applied when the user
    /// supplies the Namespace as `data.guardrailc.review.namespaceObject`, and not otherwise
    /// (docs/rego-backend.md).
    pub(super) fn scope_view(&self, out: &mut String) {
        if self.flavour != RegoFlavour::Opa {
            return;
        }
        let matcher = &self.policy.matcher;
        out.push_str(concat!(
            "\n# The guardrail's match, on the object alone.\n",
            "in_scope if {\n",
            "    resource_matches\n",
            "    namespace_matches\n",
            "    not namespace_excluded\n",
            "    object_selected\n",
            "    namespace_selected\n",
            "}\n",
        ));
        for resource in &matcher.resources {
            let group = if resource.group.is_empty() {
                "input.apiVersion == \"v1\"".to_string()
            } else {
                format!(
                    "startswith(input.apiVersion, {})",
                    string_literal(&format!("{}/", resource.group))
                )
            };
            out.push_str(&format!(
                "\nresource_matches if {{\n    input.kind == {}\n    {group}\n}}\n",
                string_literal(&resource.kind)
            ));
        }
        // Kinds whose objects live in a namespace, and Namespaces, which are matched as their own.
        let mut scoped: Vec<String> = matcher
            .resources
            .iter()
            .filter(|resource| resource.namespaced)
            .map(|resource| string_literal(&resource.kind))
            .collect();
        scoped.push(string_literal("Namespace"));
        scoped.sort();
        scoped.dedup();
        out.push_str(&format!(
            concat!(
                "\n# The namespace the object is in: its own name for a Namespace, `default` when a\n",
                "# namespaced object names none.\n",
                "namespace_scoped if input.kind in {{{scoped}}}\n",
                "\n",
                "object_namespace := input.metadata.name if {{\n",
                "    input.kind == \"Namespace\"\n",
                "}} else := input.metadata.namespace if {{\n",
                "    is_string(input.metadata.namespace)\n",
                "}} else := \"default\"\n",
            ),
            scoped = scoped.join(", ")
        ));
        let names = |names: &[String]| -> String {
            let names: Vec<String> = names.iter().map(|name| string_literal(name)).collect();
            names.join(", ")
        };
        if matcher.namespaces.is_empty() {
            out.push_str("\nnamespace_matches := true\n");
        } else {
            out.push_str(&format!(
                concat!(
                    "\n# Cluster-scoped objects are not in a namespace: the list does not apply.\n",
                    "namespace_matches if not namespace_scoped\n",
                    "\n",
                    "namespace_matches if {{\n",
                    "    namespace_scoped\n",
                    "    object_namespace in {{{}}}\n",
                    "}}\n",
                ),
                names(&matcher.namespaces)
            ));
        }
        if matcher.excluded_namespaces.is_empty() {
            out.push_str("\ndefault namespace_excluded := false\n");
        } else {
            out.push_str(&format!(
                "\nnamespace_excluded if {{\n    namespace_scoped\n    object_namespace in {{{}}}\n}}\n",
                names(&matcher.excluded_namespaces)
            ));
        }
        let mut helpers = HelperSink::new("object_selector".to_string());
        let lines = selector_lines(
            &matcher.object_selector,
            "input.metadata.labels",
            &mut helpers,
        );
        out.push_str("\nobject_selected if {\n");
        render_body(&non_empty(lines), 1, out);
        out.push_str("}\n");
        out.push_str(&helpers.definitions);
        if matcher.namespace_selector.is_empty() {
            out.push_str("\nnamespace_selected := true\n");
        } else {
            let labels = format!("{OPA_REVIEW_DATA}.namespaceObject.metadata.labels");
            let mut helpers = HelperSink::new("namespace_selector".to_string());
            let lines = selector_lines(&matcher.namespace_selector, &labels, &mut helpers);
            out.push_str(&format!(
                concat!(
                    "\n# The namespace selector, when the Namespace is supplied as data; cluster-scoped\n",
                    "# objects are not selected by namespace.\n",
                    "namespace_supplied if is_object({review}.namespaceObject)\n",
                    "\n",
                    "namespace_selected if not namespace_supplied\n",
                    "\n",
                    "namespace_selected if not namespace_scoped\n",
                    "\n",
                    "namespace_selected if {{\n",
                    "    namespace_supplied\n",
                ),
                review = OPA_REVIEW_DATA
            ));
            render_body(&lines, 1, out);
            out.push_str("}\n");
            out.push_str(&helpers.definitions);
        }
    }

    pub(super) fn exemptions(&mut self, out: &mut String) {
        if self.policy.exemptions.is_empty() {
            return;
        }
        out.push_str("\n# Objects covered by an exemption in force are skipped.");
        for (position, exemption) in self.policy.exemptions.iter().enumerate() {
            let mut helpers = HelperSink::new(format!("exemption_{}", position + 1));
            let printer = BodyPrinter {
                policy: self.policy,
                flavour: self.flavour,
            };
            match printer.condition(&exemption.condition, &Scope::default(), &mut helpers) {
                Ok(lines) => {
                    // The reason is free text: a comment line must not end early.
                    let reason: String = exemption
                        .reason
                        .chars()
                        .map(|c| if c.is_control() { ' ' } else { c })
                        .collect();
                    out.push_str(&format!(
                        "\n# {reason} (expires {})\nexempt if {{\n",
                        exemption.expires
                    ));
                    render_body(&non_empty(lines), 1, out);
                    out.push_str("}\n");
                    out.push_str(&helpers.definitions);
                }
                Err(inconsistency) => self.errors.push(inconsistency.at(Span::default())),
            }
        }
    }

    pub(super) fn pod_view(&mut self, out: &mut String) {
        let Some(pod) = &self.policy.pod else {
            return;
        };
        let (reads_spec, reads_metadata, reads_containers) =
            (pod.reads.spec, pod.reads.metadata, pod.reads.all_containers);
        let object = match self.flavour {
            RegoFlavour::Gatekeeper => "input.review.object",
            RegoFlavour::Opa => "input",
        };
        let views = [
            (reads_spec, "pod_spec", "spec"),
            (reads_metadata, "pod_metadata", "metadata"),
        ];
        for (wanted, rule, part) in views {
            if !wanted {
                continue;
            }
            out.push_str(&format!(
                "\n# The pod {part} of the object, by kind; null where the object has none.\ndefault {rule} := null\n"
            ));
            for location in &pod.locations {
                let path = if part == "spec" {
                    &location.spec_path
                } else {
                    &location.metadata_path
                };
                let path: Vec<String> = path.iter().map(|step| string_literal(step)).collect();
                let kind_test = match location.kinds.as_slice() {
                    [kind] => format!("{object}.kind == {}", string_literal(kind)),
                    kinds => {
                        let kinds: Vec<String> =
                            kinds.iter().map(|kind| string_literal(kind)).collect();
                        format!("{object}.kind in {{{}}}", kinds.join(", "))
                    }
                };
                // The kind test runs first, so `object.get` only ever sees an object.
                out.push_str(&format!(
                    "\n{rule} := object.get({object}, [{}], null) if {{\n    {kind_test}\n}}\n",
                    path.join(", ")
                ));
            }
        }
        if reads_containers {
            out.push_str(concat!(
                "\n# containers, initContainers and ephemeralContainers; a missing list counts as empty.\n",
                "default all_containers := []\n",
                "\n",
                "all_containers := [container |\n",
                "    some field in [\"containers\", \"initContainers\", \"ephemeralContainers\"]\n",
                "    containers := object.get(pod_spec, field, [])\n",
                "    is_array(containers)\n",
                "    some container in containers\n",
                "] if {\n",
                "    is_object(pod_spec)\n",
                "}\n",
            ));
        }
    }

    /// Gatekeeper 3.22 puts the namespace object into the review; older versions only have
    /// the Namespaces replicated into `data.inventory`. The two definitions exclude each other
    /// (one needs an object in the review, the other its absence), so the rule never has two
    /// values; `null` when neither has it, as the pod view is.
    pub(super) fn namespace_view(&self, out: &mut String) {
        let exemptions_read = self.policy.exemptions.iter().any(|exemption| {
            let mut reads = false;
            each_access(&exemption.condition, &mut |access| {
                reads |= access.root == Root::Namespace
            });
            reads
        });
        let reads = exemptions_read
            || self
                .policy
                .rules
                .iter()
                .any(|rule| rule.reads(|root| *root == Root::Namespace));
        if self.flavour != RegoFlavour::Gatekeeper || !reads {
            return;
        }
        out.push_str(&format!(
            concat!(
                "\n# The namespace of the request: in the review from Gatekeeper 3.22 on; before that, the\n",
                "# Namespace that gatekeeper/sync.yaml replicates into data.inventory; null when neither has it.\n",
                "default namespace_object := null\n",
                "\n",
                "review_has_namespace_object if is_object(input.review.namespaceObject)\n",
                "\n",
                "namespace_object := input.review.namespaceObject if review_has_namespace_object\n",
                "\n",
                "# Audit and gator give no namespaceObject: an inline `not is_object(…)` of the missing\n",
                "# field would be undefined in OPA, so the test goes through a rule.\n",
                "namespace_object := {inventory}[input.review.namespace] if not review_has_namespace_object\n",
            ),
            inventory = INVENTORY_NAMESPACES
        ));
    }

    pub(super) fn rule(
        &self,
        rule: &Rule,
        helpers: &mut HelperSink,
    ) -> Result<String, Inconsistency> {
        let printer = BodyPrinter {
            policy: self.policy,
            flavour: self.flavour,
        };
        let mut lines = Vec::new();
        match self.flavour {
            RegoFlavour::Gatekeeper => {
                // A Constraint cannot match on operations; the module checks them itself.
                lines.push(BodyLine::Test("operation_applies".to_string()));
            }
            RegoFlavour::Opa => {
                lines.push(BodyLine::Test("in_scope".to_string()));
                let reads_review = rule.reads(|root| {
                    matches!(root, Root::OldObject | Root::Namespace | Root::Request)
                });
                if reads_review {
                    // Without admission context the rule cannot be judged, negated tests
                    // included: it stays silent unless the user supplies the context.
                    lines.push(BodyLine::Test(format!("is_object({OPA_REVIEW_DATA})")));
                }
            }
        }
        if !self.policy.exemptions.is_empty() {
            lines.push(BodyLine::Test("not exempt".to_string()));
        }
        let mut scope = Scope::default();
        let mut binding_indexes = Vec::new();
        for (position, generator) in rule.generators.iter().enumerate() {
            let list = printer.term(&generator.list, &scope)?;
            let var = scope.bind(&generator.var);
            match self.flavour {
                RegoFlavour::Gatekeeper => {
                    // The positions make two bindings with one message two violations, as
                    // the CEL side counts them.
                    let index = format!("i{}", position + 1);
                    lines.push(BodyLine::Some(format!("some {index}, {var} in {list}")));
                    binding_indexes.push(index);
                }
                RegoFlavour::Opa => lines.push(BodyLine::Some(format!("some {var} in {list}"))),
            }
        }
        lines.extend(printer.condition(&rule.condition, &scope, helpers)?);
        lines.push(BodyLine::Test(format!(
            "msg := {}",
            printer.message(&rule.message.parts, &scope)?
        )));
        let head = match self.flavour {
            RegoFlavour::Gatekeeper => format!(
                "violation contains {{\"msg\": msg, \"details\": {{\"rule\": {}, \"binding\": [{}]}}}}",
                rule.index,
                binding_indexes.join(", ")
            ),
            RegoFlavour::Opa => "deny contains msg".to_string(),
        };
        let mut text = format!("# Rule {} (line {})\n{head} if {{\n", rule.index, rule.line);
        render_body(&lines, 1, &mut text);
        text.push_str("}\n");
        Ok(text)
    }
}
