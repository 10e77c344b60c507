//! Kubernetes objects from YAML streams: multi-document files, `kind: List` documents and
//! `kubectl get -A -o yaml` exports, read one object at a time so that a 100,000-object
//! export never has to be held in memory as one document.
//!
//! The stream is split into object texts by lines, before any YAML parsing: a document
//! ends at a `---` line, and a document with a top-level `items:` block sequence (every
//! `List` kind, which kubectl prints with `kind: List` *after* the items) yields each item
//! as soon as the next one starts. Parsing each text is then independent, so callers can
//! parse and evaluate on many threads.

use serde_json::Value;
use std::io::BufRead;

/// The YAML text of one object (or of one document that is not a list) and the 1-based
/// line where it starts in the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectText {
    pub line: usize,
    pub text: String,
}

impl ObjectText {
    /// Parses the text into the objects it holds: none for an empty document, the items of
    /// a list written in flow style (`items: [...]`), else the one object.
    pub fn parse(&self) -> Result<Vec<Value>, String> {
        let value: Value = yaml_serde::from_str(&self.text).map_err(|e| {
            // Report the line in the stream, not in the chunk.
            match e.location() {
                Some(at) => format!(
                    "line {}: {}",
                    self.line + at.line() - 1,
                    strip_location(&e.to_string())
                ),
                None => format!("line {}: {e}", self.line),
            }
        })?;
        Ok(match value {
            Value::Null => Vec::new(),
            Value::Object(mut fields) if is_list_kind(&fields) => match fields.remove("items") {
                Some(Value::Array(items)) => items,
                _ => Vec::new(),
            },
            other => vec![other],
        })
    }
}

/// `kind: List`, `PodList` …: a document whose objects are its `items`.
fn is_list_kind(fields: &serde_json::Map<String, Value>) -> bool {
    let kind = fields
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or_default();
    kind.ends_with("List") && fields.get("items").is_some_and(Value::is_array)
}

/// yaml_serde appends ` at line L column C`; the caller prints its own line.
fn strip_location(message: &str) -> &str {
    message
        .find(" at line ")
        .map_or(message, |index| &message[..index])
}

/// Splits a YAML stream into object texts, lazily.
pub struct ObjectTexts<R> {
    lines: std::io::Lines<R>,
    line_number: usize,
    /// The current document's lines outside `items:`; yielded when it ends unless the
    /// document was a list.
    document: Vec<String>,
    document_line: usize,
    /// `Some(indent)` while inside a top-level `items:` block sequence whose entries start
    /// at that column.
    items_indent: Option<usize>,
    /// Set after a top-level `items:` line, until the first entry shows its indentation.
    items_pending: bool,
    was_list: bool,
    item: Vec<String>,
    item_line: usize,
    ready: std::collections::VecDeque<ObjectText>,
    finished: bool,
}

impl<R: BufRead> ObjectTexts<R> {
    pub fn new(reader: R) -> ObjectTexts<R> {
        ObjectTexts {
            lines: reader.lines(),
            line_number: 0,
            document: Vec::new(),
            document_line: 1,
            items_indent: None,
            items_pending: false,
            was_list: false,
            item: Vec::new(),
            item_line: 0,
            ready: Default::default(),
            finished: false,
        }
    }

    fn end_item(&mut self) {
        if !self.item.is_empty() {
            let text = std::mem::take(&mut self.item).join("\n") + "\n";
            self.ready.push_back(ObjectText {
                line: self.item_line,
                text,
            });
        }
    }

    fn end_document(&mut self) {
        self.end_item();
        self.items_indent = None;
        self.items_pending = false;
        let lines = std::mem::take(&mut self.document);
        if !self.was_list && lines.iter().any(|l| is_content(l)) {
            self.ready.push_back(ObjectText {
                line: self.document_line,
                text: lines.join("\n") + "\n",
            });
        }
        self.was_list = false;
        self.document_line = self.line_number + 1;
    }

    fn take_line(&mut self, line: String) {
        if line == "---" || line.starts_with("--- ") || line == "..." {
            self.end_document();
            return;
        }
        if self.items_pending && is_content(&line) {
            let indent = indent_of(&line);
            if line[indent..].starts_with('-') {
                self.items_pending = false;
                self.items_indent = Some(indent);
                self.was_list = true;
            } else {
                // `items:` was not a block sequence after all: keep the document whole.
                self.items_pending = false;
            }
        }
        if let Some(indent) = self.items_indent {
            let starts_entry = indent_of(&line) == indent
                && (line[indent..].starts_with("- ") || &line[indent..] == "-");
            if starts_entry {
                self.end_item();
                self.item_line = self.line_number;
                let rest = line[indent..].strip_prefix("- ").unwrap_or_default();
                self.item.push(format!("{}{rest}", " ".repeat(indent + 2)));
                return;
            }
            let inside = !is_content(&line) || indent_of(&line) > indent;
            if inside {
                self.item.push(line);
                return;
            }
            self.end_item();
            self.items_indent = None;
        }
        if line.starts_with("items:") && line["items:".len()..].trim().is_empty() {
            self.items_pending = true;
        }
        self.document.push(line);
    }
}

impl<R: BufRead> Iterator for ObjectTexts<R> {
    type Item = Result<ObjectText, String>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(ready) = self.ready.pop_front() {
                return Some(Ok(dedent(ready)));
            }
            if self.finished {
                return None;
            }
            match self.lines.next() {
                Some(Ok(line)) => {
                    self.line_number += 1;
                    self.take_line(line);
                }
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(format!(
                        "cannot read line {}: {e}",
                        self.line_number + 1
                    )));
                }
                None => {
                    self.finished = true;
                    self.end_document();
                }
            }
        }
    }
}

/// Removes the indentation every non-blank line of an item shares.
fn dedent(object: ObjectText) -> ObjectText {
    let common = object
        .text
        .lines()
        .filter(|l| is_content(l))
        .map(indent_of)
        .min()
        .unwrap_or(0);
    if common == 0 {
        return object;
    }
    let text = object
        .text
        .lines()
        // Only blank and comment lines can be indented less than the content; they lose
        // their indentation instead of their first characters.
        .map(|l| {
            if indent_of(l) >= common {
                &l[common..]
            } else {
                l.trim_start_matches(' ')
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    ObjectText {
        line: object.line,
        text,
    }
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line that is neither blank nor a comment.
fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start();
    !trimmed.is_empty() && !trimmed.starts_with('#')
}

/// Every object in a (small) YAML text: documents, and the items of list documents.
pub fn objects_in(text: &str) -> Result<Vec<(usize, Value)>, String> {
    let mut objects = Vec::new();
    for chunk in ObjectTexts::new(text.as_bytes()) {
        let chunk = chunk?;
        objects.extend(chunk.parse()?.into_iter().map(|value| (chunk.line, value)));
    }
    Ok(objects)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<(usize, String)> {
        objects_in(text)
            .unwrap()
            .into_iter()
            .map(|(line, v)| (line, v["metadata"]["name"].as_str().unwrap().to_string()))
            .collect()
    }

    #[test]
    fn documents_are_split_on_separator_lines() {
        let text = "kind: Pod\nmetadata: {name: a}\n---\n# only a comment\n---\nkind: Pod\nmetadata:\n  name: b\n";
        assert_eq!(names(text), vec![(1, "a".into()), (6, "b".into())]);
    }

    #[test]
    fn kubectl_list_exports_yield_each_item() {
        let text = "apiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: a\n    labels:\n      x: |\n        block\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: b\nkind: List\nmetadata:\n  resourceVersion: \"\"\n";
        let objects = objects_in(text).unwrap();
        assert_eq!(objects.len(), 2);
        assert_eq!(objects[0].0, 3);
        assert_eq!(objects[0].1["metadata"]["labels"]["x"], "block\n");
        assert_eq!(objects[1].0, 10);
        assert_eq!(objects[1].1["metadata"]["name"], "b");
    }

    #[test]
    fn indented_items_and_lists_among_documents() {
        let text = "kind: Pod\nmetadata: {name: a}\n---\nkind: List\nitems:\n  - kind: Pod\n    metadata: {name: b}\n  - kind: Pod\n    metadata: {name: c}\n";
        assert_eq!(
            names(text),
            vec![(1, "a".into()), (6, "b".into()), (8, "c".into())]
        );
    }

    #[test]
    fn empty_lists_and_flow_items_are_not_objects() {
        assert!(objects_in("kind: List\nitems: []\n").unwrap().is_empty());
        let flow = objects_in("kind: List\nitems: [{kind: Pod}, {kind: Service}]\n").unwrap();
        assert_eq!(flow.len(), 2);
        assert_eq!(flow[1].1["kind"], "Service");
    }

    #[test]
    fn comments_between_list_items_are_comments() {
        let text = "items:\n- kind: Pod\n  metadata: {name: a}\n# é: a comment at column 0\n#\n- kind: Pod\n  metadata: {name: b}\n";
        assert_eq!(names(text), [(2, "a".to_string()), (6, "b".to_string())]);
    }

    #[test]
    fn errors_name_the_line_in_the_stream() {
        let error = objects_in("kind: Pod\n---\nkind: Pod\nmetadata: [\n").unwrap_err();
        assert!(error.starts_with("line "), "{error}");
        let line: usize = error["line ".len()..]
            .split(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!((3..=5).contains(&line), "{error}");
    }
}
