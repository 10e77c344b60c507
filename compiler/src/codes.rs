//! Every diagnostic code, its default severity, a one-line summary and the explanation that
//! `guardrailc explain CODE` prints. Codes are stable: never renumber, only add.
//!
//! Ranges: G01xx lexing and parsing, G02xx guardrail structure, G03xx names and types,
//! G04xx project configuration, G05xx backends and emitted policy, G09xx internal errors.

use serde::{Serialize, Serializer};

/// How serious a diagnostic is; every code has a default ([`Code::default_severity`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Note,
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $severity:ident, $summary:literal, $explain:literal; )*) => {
        /// A stable diagnostic code such as `G0301`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The code as printed, e.g. `G0301`.
            pub fn as_str(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$severity, )* }
            }

            /// One line: what went wrong.
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => $summary, )* }
            }

            /// Several lines: why it is a problem and how to fix it, with an example.
            pub fn explanation(self) -> &'static str {
                match self { $( Code::$variant => $explain, )* }
            }
        }
    };
}

impl Code {
    /// Looks a code up by its printed form, case-insensitively (`g0301` works too).
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|code| code.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Code {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

codes! {
    UnexpectedCharacter = "G0101", Error, "a character that cannot start any token",
"The lexer met a character that is not part of the guardrail language, such as `$` or `;`.

Remove it, or put it inside a string literal if it is part of a value:

    exclude namespaces [\"kube-system\"]   # not: [kube-system;]";
    UnterminatedString = "G0102", Error, "a string literal is not closed",
"A string starts with `\"` and must end with `\"` on the same line. Use `\\n` for a line
break inside a string (not in a message: the API server does not show a message with a line
break, G0507).

    deny for c in pod.all_containers
      when c.securityContext.privileged == true
      message \"container {c.name} is privileged\"";
    InvalidEscape = "G0103", Error, "an unknown escape sequence in a string",
"Strings accept the escapes `\\\\`, `\\\"`, `\\n`, `\\t`, `\\r`, `\\{`, `\\}` and `\\u{HEX}`.
Write a literal backslash as `\\\\` (regexes often need this: `\"^\\\\d+$\"`).";
    UnexpectedToken = "G0104", Error, "the parser expected something else here",
"The text does not fit the grammar at this point. The message says what was expected.
The grammar is in docs/language.md: a guardrail is `guardrail ID { items }`, and each rule is
`deny … when EXPR message \"…\"` or `require … that EXPR message \"…\"`:

    guardrail no-host-network {
      title \"Pods do not use the host network\"
      match kinds [Pod]
      deny when object.spec.hostNetwork == true
        message \"the pod uses the host network\"
    }";
    UnclosedDelimiter = "G0105", Error, "a bracket, brace or parenthesis is not closed",
"Every `{`, `[` and `(` needs its closing partner. The secondary label shows where the
unclosed one opened.";
    InvalidNumber = "G0106", Error, "a number or quantity literal is malformed",
"Integers are decimal (`80`, `-1`). Kubernetes quantities are a number followed by a suffix:
`500m`, `2Gi`, `1.5`, `100M`, `1e3`. Known suffixes: m, k, M, G, T, P, E, Ki, Mi, Gi, Ti, Pi, Ei.";
    InvalidInterpolation = "G0107", Error, "a `{…}` placeholder in a message is malformed",
"Messages interpolate expressions in braces: `\"container {c.name} uses {c.image}\"`.
A placeholder must hold one expression and be closed. Write a literal brace as `\\{` or `\\}`.";
    InvalidDate = "G0108", Error, "a date is not a valid YYYY-MM-DD calendar date",
"Exemption expiry dates are written `expires 2027-01-31`: a four-digit year, a month from
01 to 12 and a day that exists in that month.";
    TooDeep = "G0109", Error, "an expression or type is nested too deeply",
"Expressions may nest at most 64 levels deep: brackets, parentheses, `not`, `any`/`all`,
and chains of `and`, `or` or `.field` each count a level; an expression may have at most
2,048 operators and a rule at most 64 `for` loops. Deeper nesting is refused rather than
risk exhausting the compiler's stack; the rest of the expression (or rule) is skipped.

Split a long `or` into several rules (a guardrail denies when any of its rules does), name
a repeated value with `let` (a value, not a condition: `let port = p.containerPort`), or
test membership with a list instead of a chain of `==`:

    deny for c in pod.all_containers for p in c.ports
      let port = p.containerPort
      when port in [22, 23, 3389] and p.protocol == \"TCP\"
      message \"port {port} is a remote shell\"";
    DuplicateGuardrail = "G0201", Error, "two guardrails have the same id",
"A guardrail id names the emitted policies, so it must be unique across the project.
Rename one of them.";
    DuplicateItem = "G0202", Error, "a metadata or match item is given twice",
"Items such as `title`, `why`, `severity`, `category` and `match` may appear once per
guardrail. Remove the repetition, or merge the two lists into one.";
    MissingItem = "G0203", Error, "a guardrail lacks a required item",
"Something a guardrail or a rule cannot do without is missing:

* the guardrail's `title`, which catalogs and reports show;
* a `match` saying which objects it looks at (`match workloads`, `match kinds [Service]`);
* a rule's requirement: a `require` rule needs `that` (what must hold). (A `deny` rule
  without `when` rejects every object it matches, or every binding of its `for` clauses.)

(A guardrail without any rule is G0207.)

    guardrail no-host-network {
      title \"Pods do not use the host network\"
      match kinds [Pod]
      deny when object.spec.hostNetwork == true
        message \"the pod uses the host network\"
      require that exists(object.metadata.labels[\"team\"])
        message \"the pod has no team label\"
    }";
    UnknownCategory = "G0204", Error, "the category is not preventive, detective or corrective",
"Guardrails are preventive (admission), detective (audit of existing objects) or corrective
(defaults and containment). Write one of those three words:

    category preventive";
    UnknownSeverity = "G0205", Error, "the severity is not low, medium, high or critical",
"Severity orders findings in reports. Use one of: low, medium, high, critical.";
    InvalidGuardrailId = "G0206", Error, "a guardrail id is not a valid Kubernetes name",
"The id becomes the name of a ValidatingAdmissionPolicy and a Gatekeeper Constraint, so it
must be a DNS label: lowercase letters, digits and `-`, starting and ending with a letter or
digit, at most 63 characters. Example: `no-latest-tag`.";
    NoRules = "G0207", Error, "a guardrail has no rules",
"A guardrail without `deny` or `require` rules can never reject anything. Add a rule:

    deny when object.spec.hostNetwork message \"host networking is not allowed\"";
    UnknownEnforcement = "G0208", Error, "an enforcement action is not deny, warn or audit",
"Enforcement per environment is one of deny (reject), warn (admit with a warning) or audit
(admit and record). These map to VAP validationActions Deny, Warn, Audit and Gatekeeper
enforcementAction deny, warn, dryrun.";
    UnknownOperation = "G0209", Error, "an operation is not CREATE, UPDATE, DELETE or CONNECT",
"Admission operations are CREATE, UPDATE, DELETE and CONNECT (uppercase).";
    UnknownKind = "G0210", Error, "a kind is not a built-in kind nor a declared CRD",
"`match kinds [...]` takes Kubernetes kinds such as Pod, Deployment, Service, Ingress, or
`workloads` for Pod and every pod controller. Custom resources must be declared in
guardrails.toml under [[crds]] with kind, group, version and resource.";
    InvalidLabelKey = "G0211", Error, "a label key or value is not valid for Kubernetes",
"Label keys are an optional DNS-subdomain prefix and a name of at most 63 characters
(`app.kubernetes.io/name`); values are at most 63 characters of letters, digits, `-`, `_`, `.`.";
    InvalidNamespace = "G0212", Error, "a namespace name is not a valid DNS label",
"Namespace names are lowercase letters, digits and `-`, at most 63 characters.";
    DuplicateName = "G0213", Error, "a name is defined twice in the same scope",
"Params, `let` bindings and loop variables share one namespace per guardrail and may not
shadow each other. Rename one of them.";
    ExpiredExemption = "G0214", Warning, "an exemption has expired and is dropped",
"An exemption past its `expires` date is no longer compiled into the policy: the objects it
covered are checked again. `guardrailc test` fails while an expired exemption remains in the
source. Renew it with a new date and reason, or delete it.";
    IncompleteExemption = "G0215", Error, "an exemption lacks a reason, an expiry or a target",
"Every exemption needs `reason \"…\"`, `expires YYYY-MM-DD` and at least one target
(`namespaces`, `names` or `labels`), so that it is reviewed and ends.";
    UnknownEnvironment = "G0216", Error, "an environment is not declared in guardrails.toml",
"Enforcement and params may only name environments that the project declares. Declare it:

    [environments.staging]
    enforcement = \"warn\"";
    NotAllowedHere = "G0217", Error, "a construct is well formed but not allowed where it is written",
"The text parses, but the guardrail does not allow it in this place:

* `exclude` applies to `namespaces`, `namespace_labels` and `labels` only; to leave kinds
  or operations out, list the ones to match instead (`match kinds [Deployment]`).
* `that` belongs to `require` rules (reject unless it holds); a `deny` rule rejects `when`
  its condition holds:

      deny for c in pod.all_containers when c.securityContext.privileged message \"…\"
      require for c in pod.all_containers that exists(c.resources.limits) message \"…\"

* a `let`, `for` or param name is lowercase letters, digits and `_`, and not a keyword
  of the language (`in`, `and`, `not`, …).

(G0104 is the parser's: the text does not fit the grammar at all.)";
    UnknownField = "G0301", Error, "a field does not exist in the schema of the matched kinds",
"Field paths are checked against the Kubernetes OpenAPI schema of every kind the guardrail
matches, so a typo is an error rather than a rule that silently never fires. The help line
suggests the nearest field name.";
    UnknownName = "G0302", Error, "a name is not defined",
"Expressions may use the roots `object`, `old`, `pod`, `namespace`, `request` and `params`,
params declared with `param`, `let` bindings and loop variables from `for`, `any` and `all`.";
    TypeMismatch = "G0303", Error, "an operand has the wrong type",
"A value has a type that the place it is used in does not accept:

* a comparison needs the same type on both sides (`c.image == \"nginx\"`, not
  `c.image == 3`); booleans are compared with `==` and `!=` only, and a schemaless value
  only with a string, integer or boolean;
* `when`, `that`, `and`, `or` and `not` need a condition, not a value: compare the value
  (`x == \"value\"`) or test its presence (`exists(x)`); nor can a condition be used as a
  value;
* string tests (`starts_with`, `ends_with`, `contains`, `matches`) need strings;
* `x in [...]` needs a list of `x`'s type, and a list's elements all have one type;
* `exists` and `missing` take a field path such as `c.securityContext`;
* `keys()` applies to maps (`metadata.annotations`) read through fields and keys that are
  always present, `size()` to lists, maps and strings;
* only field paths can be indexed: a map with a string, a list with a non-negative integer
  literal; a list read with a key that may be absent cannot be iterated.

Hover over a field in the editor to see its type.

    deny for c in pod.all_containers
      when c.image == \"nginx\" or c.securityContext.privileged == true
      message \"container {c.name} runs nginx or is privileged\"";
    NotAList = "G0304", Error, "`for`, `any`, `all` or `in` is used on something that is not a list",
"Only lists can be iterated. `pod.all_containers`, `pod.spec.volumes` and list params are
lists; a map such as `object.metadata.labels` is indexed with `labels[\"key\"]` instead.";
    NotAQuantity = "G0305", Error, "a quantity is compared with something that is not a quantity",
"Quantities (`500m`, `2Gi`) compare as numbers only against quantity fields such as
`c.resources.limits[\"memory\"]`. Compare strings with strings and integers with integers.";
    InvalidRegex = "G0306", Error, "a regular expression does not compile",
"`matches` takes an RE2 regular expression, the syntax both CEL and Rego use. Backslashes
must be doubled inside the string: `\"^v\\\\d+$\"`. The pattern is a string literal or comes
from a param (an element of a list param, a field of a record param): a pattern read from the
object under review is refused, since it could be any text.";
    PodOutsideWorkloads = "G0307", Error, "`pod` is used in a guardrail that matches kinds without a pod spec",
"`pod` is the pod view of Pod and every pod controller. A guardrail that also matches, say,
Services has no pod there. Match `workloads` (or only pod kinds), or read `object` instead.";
    UnknownFunction = "G0308", Error, "a method or function does not exist",
"Available: `s.starts_with(x)`, `s.ends_with(x)`, `s.contains(x)`, `s.matches(re)`,
`list.size()`, `exists(path)`, `missing(path)`.";
    WrongArgumentCount = "G0309", Error, "a function is called with the wrong number of arguments",
"Each string test takes exactly one argument: `c.image.starts_with(\"registry/\")`.";
    OldWithoutUpdate = "G0310", Warning, "`old` is read but the guardrail does not match UPDATE",
"`old` is the object before an UPDATE. On CREATE it is absent, so every test on it is false.
Add `match operations [CREATE, UPDATE]` or drop the test.";
    NotInterpolatable = "G0311", Error, "a message placeholder holds a value that is not a string, integer or boolean",
"Placeholders print scalar values the same way in CEL and Rego. Print a field of the
object instead of the whole object or list. A map value read with a key that may itself be
absent (`labels[l.key]` for an optional record field) cannot be printed either: print the
key.";
    ConstantCondition = "G0312", Warning, "a rule condition is a constant",
"A `when` or `that` that is always true or always false makes the rule deny everything or
nothing. This is usually a leftover from testing.";
    ParamTypeMismatch = "G0313", Error, "a param value does not have the declared type",
"A param's default and every environment override must match its declared type, e.g.
`param max_replicas: int = 10` or `param registries: list<string> = [\"r.example.com/\"]`.";
    UnknownType = "G0314", Error, "a type name is not known",
"Param types are string, int, bool, quantity, list<T>, map<string, T> and records
`{name: T, …}` with at least one field, each named once.";
    InvalidQuantity = "G0315", Error, "a quantity literal is not a valid Kubernetes quantity",
"A quantity is a decimal number with an optional suffix (m, k, M, G, T, P, E, Ki, Mi, Gi,
Ti, Pi, Ei) or exponent: `250m`, `1.5Gi`, `1e3`.";
    NamespaceOnClusterScoped = "G0316", Warning, "`namespace` is read but a matched kind is cluster-scoped",
"Cluster-scoped objects have no namespace object, so tests on `namespace` are false for them.";
    UnavailableInTarget = "G0317", Warning, "a rule reads request context that a target does not have",
"The plain `opa` target (conftest) sees only the object: `old`, `request` and `namespace` are
absent there, so rules reading them never fire in that target. A guardrail that needs them can
leave the target out with `targets [vap, gatekeeper]`.";
    UnknownParam = "G0318", Error, "a param override names a param the guardrail does not declare",
"Environment param overrides in guardrails.toml must name a declared `param`.";
    MissingParamValue = "G0319", Error, "a param has no default and no value in an environment",
"Give the param a default (`param x: int = 3`) or a value in every environment.";
    ExemptionCannotApply = "G0320", Warning, "an image exemption cannot apply to a container read by index",
"An image exemption removes the containers whose image it matches from every container list
a rule iterates (`for c in pod.all_containers`, `any c in pod.spec.containers: …`,
`all c in object.spec.containers: …`). A container read by index, such as
`object.spec.containers[0].securityContext`, is not iterated, so an exempt image there would
still be judged. Iterate the containers instead:

    deny for c in pod.spec.containers
      when c.securityContext.privileged == true
      message \"{c.name} is privileged\"";
    InvalidConfig = "G0401", Error, "guardrails.toml is not valid",
"The project file is TOML. See docs/configuration.md for its keys:

    sources = [\"guardrails/*.guard\"]
    targets = [\"vap\", \"gatekeeper\", \"opa\"]
    kube_version = \"1.30\"
    [environments.prod]
    enforcement = \"deny\"";
    UnknownTarget = "G0402", Error, "a target is not vap, gatekeeper or opa",
"Targets are `vap` (ValidatingAdmissionPolicy), `gatekeeper` (ConstraintTemplate and
Constraint) and `opa` (plain Rego for conftest or opa eval), in guardrails.toml's `targets`
and in a guardrail's own `targets` item:

    guardrail team-label-immutable {
      title \"the team label does not change\"
      targets [vap, gatekeeper]
      match kinds [ConfigMap]
      match operations [UPDATE]
      deny when old.metadata.labels[\"team\"] != object.metadata.labels[\"team\"]
        message \"the team label changed\"
    }";
    UnsupportedKubeVersion = "G0403", Error, "the kube version is not supported",
"ValidatingAdmissionPolicy is GA from Kubernetes 1.30; guardrailc targets 1.30 and newer.
Write the version as `1.30`.";
    NoSources = "G0404", Error, "the project has no guardrail sources",
"A project needs at least one `.guard` file in its directory or in `sources`.";
    NotASource = "G0405", Note, "a `.guard` file is not among the project's sources",
"guardrails.toml's `sources` patterns do not select the file, so `guardrailc build` and
`guardrailc test` leave it out, and the editor does not check it. Add a pattern that matches
it, or move it where one does.";
    UnmatchedSourcePattern = "G0406", Warning, "a `sources` pattern matches no `.guard` file",
"A pattern of `sources` in guardrails.toml selects no file: a typo, a file that was moved
or deleted, or a folder the build skips (hidden folders and the output folder). The build
goes on with what the other patterns select; fix or remove the pattern:

    sources = [\"guardrails/**/*.guard\"]";
    CostLimit = "G0501", Warning, "a CEL expression may exceed the API server's cost limit",
"The API server charges each CEL expression at run time and rejects evaluations over
1,000,000 units. The estimate multiplies list sizes through nested loops: a list literal or a
list param counts its items, and any other list (a field of the object) counts 64, whatever
its schema's `maxItems`. Narrow the loops, or loop over a param or literal list.";
    KubeVersionTooOld = "G0502", Error, "a construct needs a CEL function newer than the target kube version",
"The API server rejects CEL functions it does not know. Raise `--kube-version` (or
`kube_version` in guardrails.toml), or avoid the construct.";
    TooManyMatchConditions = "G0503", Error, "more than 64 match conditions",
"A ValidatingAdmissionPolicy may have at most 64 matchConditions. Merge exemptions.";
    NameCollision = "G0504", Error, "two guardrails emit objects or files with the same name",
"Distinct ids can still give the same emitted name: Gatekeeper names a ConstraintTemplate
after its constraint kind, the id in CamelCase and then lowercased, so `ab-c`, `a-bc` and
`abc` (kinds `AbC`, `ABc`, `Abc`) all become the template `abc`, and applying them makes
each overwrite the others. Rename one of the guardrails so that the names differ in more
than the placement of `-`.";
    LoopNestingTooDeep = "G0505", Error, "a rule nests more loops than the engines support",
"A rule may nest at most 16 loops (`for` clauses, `any` and `all`, counted together along one
path). Deeper nesting is past what the evaluators handle: the Rego virtual machine of the
testkit runs out of registers at about 26 nested loops and the CEL parser stops at its
recursion limit at about 65. Split the rule, or iterate a flatter list.";
    OutputTooLarge = "G0506", Error, "an emitted object or Rego module is too large",
"Kubernetes stores an object in etcd, which refuses requests over 1.5 MiB, so a bigger
ValidatingAdmissionPolicy or ConstraintTemplate cannot be applied. The Rego engine of
`guardrailc test` loads modules of at most 1 MiB, 19,999 lines and 1,024 characters per line,
and guardrailc does not ship what it cannot test. Split the guardrail into several, or
shorten long literal lists and messages.";
    HiddenMessage = "G0507", Warning, "the API server would not show this message",
"A ValidatingAdmissionPolicy's `messageExpression` is shown only when it gives a single line
that is not blank; otherwise the API server shows `failed expression: …` instead, while
Gatekeeper and OPA show the message as written. The message of this rule has a line break
(a `\\n` in its text or in a param value it interpolates), or is blank.

Write the message on one line:

    deny for c in pod.spec.containers
      when c.securityContext.runAsUser == 0
      message \"container {c.name} runs as root; set runAsNonRoot\"

Values read from the object at run time can hold line breaks too; `guardrailc test` shows
the message the API server would (docs/evaluation.md).";
    Internal = "G0901", Error, "an internal compiler error",
"The compiler produced something it could not verify. This is a bug in guardrailc: please
report it with the guardrail that triggered it.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for code in Code::ALL {
            let text = code.as_str();
            assert!(seen.insert(text), "duplicate code {text}");
            assert!(text.len() == 5 && text.starts_with('G'), "{text}");
            assert!(
                !code.summary().ends_with('.'),
                "{text}: summary ends with a period"
            );
            assert!(
                code.explanation().len() > 40,
                "{text}: explanation too short"
            );
            assert_eq!(Code::parse(&text.to_lowercase()), Some(*code));
        }
    }
}
