//! The syntax tree. Every node has a span; `Error` nodes stand where the parser recovered,
//! so a half-typed file still yields a tree for the rest.

use crate::span::Span;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct File {
    pub guardrails: Vec<Guardrail>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A string literal, decoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StrLit {
    pub value: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Guardrail {
    pub id: Ident,
    pub items: Vec<Item>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Item {
    Meta(Meta),
    Match(MatchClause),
    Exclude(MatchClause),
    Param(Param),
    Let(Let),
    Rule(Rule),
    Enforce(Enforce),
    Exempt(Exempt),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Meta {
    pub key: Ident,
    pub value: MetaValue,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum MetaValue {
    /// `title`, `why`, `owner`, `docs`.
    Text(StrLit),
    /// `category`, `severity`.
    Word(Ident),
    /// `controls`.
    List(Vec<StrLit>),
    /// `targets`: bare words.
    Words(Vec<Ident>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MatchClause {
    pub kind: MatchKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum MatchKind {
    /// `match workloads`: Pod and every pod controller.
    Workloads,
    /// `match kinds [Pod, Service]`.
    Kinds(Vec<Ident>),
    /// `match operations [CREATE, UPDATE]`.
    Operations(Vec<Ident>),
    /// `match namespaces ["a"]` / `exclude namespaces ["kube-system"]`.
    Namespaces(Vec<StrLit>),
    /// `match namespace_labels { "env" = "prod" }`.
    NamespaceLabels(Vec<SelectorTerm>),
    /// `match labels { "app" exists }`.
    Labels(Vec<SelectorTerm>),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SelectorTerm {
    pub key: StrLit,
    pub test: SelectorTest,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum SelectorTest {
    Equals(StrLit),
    NotEquals(StrLit),
    In(Vec<StrLit>),
    NotIn(Vec<StrLit>),
    Exists,
    Missing,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Param {
    pub name: Ident,
    pub ty: TypeExpr,
    pub default: Option<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TypeExpr {
    /// `string`, `list` …; for a record type `{min: int}` the word `record`, spanning its `{`.
    pub name: Ident,
    pub args: Vec<TypeExpr>,
    /// The fields of a record type, in source order; empty for every other type.
    pub fields: Vec<RecordField>,
    pub span: Span,
}

/// `name: type` inside a record type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RecordField {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Let {
    pub name: Ident,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum RuleKind {
    Deny,
    Require,
}

/// `deny for c in pod.all_containers let img = c.image when … message "…" fix "…"` or
/// `require for … when <precondition> that <requirement> message "…"`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    pub kind: RuleKind,
    pub keyword: Span,
    /// `for` and `let` clauses in source order; each may use the names bound before it.
    pub bindings: Vec<Binding>,
    /// For `deny`: the violation condition. For `require`: an optional precondition.
    pub when: Option<Expr>,
    /// For `require`: what must hold.
    pub that: Option<Expr>,
    pub message: Option<Message>,
    pub fix: Option<Message>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Binding {
    For(For),
    Let(Let),
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct For {
    pub var: Ident,
    pub list: Expr,
    pub span: Span,
}

/// A message with `{expr}` placeholders.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Message {
    pub parts: Vec<MessagePart>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum MessagePart {
    Text(String),
    Expr(Expr),
}

/// `enforce deny` or `enforce { prod: deny, dev: audit }`, with `default` as a key for the rest.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Enforce {
    pub entries: Vec<EnforceEntry>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EnforceEntry {
    /// None for the one-word form, which applies to every environment.
    pub env: Option<Ident>,
    pub action: Ident,
}

/// `exempt { namespaces [...] names [...] labels {...} images [...] reason "…" owner "…" expires 2027-01-31 }`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exempt {
    pub namespaces: Vec<StrLit>,
    pub names: Vec<StrLit>,
    /// Container images (a trailing `*` matches any suffix): only violations bound to such a
    /// container are exempt.
    pub images: Vec<StrLit>,
    pub labels: Vec<SelectorTerm>,
    pub reason: Option<StrLit>,
    pub owner: Option<StrLit>,
    pub expires: Option<Date>,
    pub span: Span,
}

impl Exempt {
    /// The reason as written, empty when it has none (the checker reports that).
    pub fn reason_text(&self) -> String {
        self.reason
            .as_ref()
            .map(|r| r.value.clone())
            .unwrap_or_default()
    }

    pub fn owner_text(&self) -> Option<String> {
        self.owner.as_ref().map(|o| o.value.clone())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
    pub span: Span,
}

impl std::fmt::Display for Date {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

impl Expr {
    /// Calls `visit` on each expression directly inside this one, in source order. Every walk
    /// over expressions (the parser's height limit, the formatter, the editor's index) takes
    /// its children from here.
    pub fn for_each_child<'a>(&'a self, mut visit: impl FnMut(&'a Expr)) {
        match &self.kind {
            ExprKind::Field(base, _) | ExprKind::Not(base) => visit(base),
            ExprKind::Index(base, index) | ExprKind::Binary(_, base, index) => {
                visit(base);
                visit(index);
            }
            ExprKind::Quantified { list, body, .. } => {
                visit(list);
                visit(body);
            }
            ExprKind::Call { receiver, args, .. } => {
                if let Some(receiver) = receiver {
                    visit(receiver);
                }
                args.iter().for_each(visit);
            }
            ExprKind::List(items) => items.iter().for_each(visit),
            ExprKind::Bool(_)
            | ExprKind::Int(_)
            | ExprKind::Quantity(_)
            | ExprKind::Str(_)
            | ExprKind::Name(_)
            | ExprKind::Error => {}
        }
    }

    /// Calls `visit` on this expression and every expression inside it, parents first. The
    /// parser bounds the height of what it returns (G0109), so this recursion is bounded too.
    pub fn walk<'a>(&'a self, visit: &mut impl FnMut(&'a Expr)) {
        visit(self);
        self.for_each_child(|child| child.walk(visit));
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum ExprKind {
    Bool(bool),
    Int(i64),
    /// A quantity literal in its source spelling, validated: `500m`, `2Gi`.
    Quantity(String),
    Str(String),
    List(Vec<Expr>),
    /// A root (`object`, `pod` …), a param, a `let` or a loop variable.
    Name(String),
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    /// `recv.name(args)` or `name(args)`.
    Call {
        receiver: Option<Box<Expr>>,
        name: Ident,
        args: Vec<Expr>,
    },
    Not(Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `any x in list: body` / `all x in list: body`.
    Quantified {
        all: bool,
        var: Ident,
        list: Box<Expr>,
        body: Box<Expr>,
    },
    /// Where the parser recovered from an error.
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum BinaryOp {
    And,
    Or,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    NotIn,
}

impl BinaryOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::And => "and",
            BinaryOp::Or => "or",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::In => "in",
            BinaryOp::NotIn => "not in",
        }
    }
}
