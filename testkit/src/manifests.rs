//! Kubernetes objects from YAML streams: multi-document files, `kind: List` documents and
//! `kubectl get -A -o yaml` exports, read one object at a time so that a 100,000-object
//! export never has to be held in memory as one document.
//!
//! The stream is split into object texts by lines, before any YAML parsing: a document
//! ends at a `---` line, and a document with a top-level `items:` block sequence (every
//! `List` kind, which kubectl prints with `kind: List` *after* the items) yields each item
//! as soon as the next one starts. Parsing each text is then independent, so callers can
//! parse and evaluate on many threads.
//!
//! A key given twice in one map is an error, as `kubectl` makes it, and no object text may
//! exceed [`MAX_OBJECT_BYTES`], so an endless line (`/dev/zero`) fails instead of filling
//! memory.

use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::io::BufRead;

/// The largest object text (one document, or one item of a list) and so the longest line
/// a manifest stream may have: 64 MiB, far above the ~1.5 MiB etcd stores per object.
pub const MAX_OBJECT_BYTES: usize = 64 << 20;

/// Parses YAML (or JSON) like `yaml_serde::from_str::<Value>`, except that a key given twice
/// in a map is an error located at the second one, where `yaml_serde` keeps the last.
pub fn parse_yaml(text: &str) -> Result<Value, yaml_serde::Error> {
    yaml_serde::from_str::<Strict>(text).map(|strict| strict.0)
}

/// One document of a multi-document stream (`yaml_serde::Deserializer::from_str`), parsed
/// as [`parse_yaml`] parses.
pub fn parse_yaml_document(document: yaml_serde::Deserializer) -> Result<Value, yaml_serde::Error> {
    Strict::deserialize(document).map(|strict| strict.0)
}

/// A JSON value deserialised with duplicate map keys refused.
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Strict, D::Error> {
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }

    fn visit_i128<E: serde::de::Error>(self, v: i128) -> Result<Value, E> {
        // As serde_json's own `Value` does: a number if it fits, else an error.
        serde_json::Number::deserialize(serde::de::value::I128Deserializer::new(v))
            .map(Value::Number)
    }

    fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Value, E> {
        serde_json::Number::deserialize(serde::de::value::U128Deserializer::new(v))
            .map(Value::Number)
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Strict::deserialize(deserializer).map(|strict| strict.0)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Strict(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = Map::new();
        while let Some(key) = map.next_key_seed(NewKey(&fields))? {
            let Strict(value) = map.next_value()?;
            fields.insert(key, value);
        }
        Ok(Value::Object(fields))
    }
}

/// A map key that must not be in the map yet. The error is raised while the key itself
/// is read, so the YAML parser places it at the duplicate.
struct NewKey<'m>(&'m Map<String, Value>);

impl<'de> DeserializeSeed<'de> for NewKey<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl Visitor<'_> for NewKey<'_> {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a map key")
    }

    fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<String, E> {
        if self.0.contains_key(key) {
            return Err(E::custom(format_args!(
                "duplicate key `{}`: a key may appear once in a map (kubectl rejects this too)",
                key.escape_debug()
            )));
        }
        Ok(key.to_string())
    }
}

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
        let value: Value = parse_yaml(&self.text).map_err(|e| {
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
    reader: R,
    line_number: usize,
    /// The bytes of the object text being gathered (the document's or the list item's).
    document_bytes: usize,
    item_bytes: usize,
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
            reader,
            line_number: 0,
            document_bytes: 0,
            item_bytes: 0,
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

    /// The next line without its line break, or why it cannot be read: an IO error, text
    /// that is not UTF-8, or a line longer than [`MAX_OBJECT_BYTES`] (read no further).
    fn next_line(&mut self) -> Option<Result<String, String>> {
        let mut bytes = Vec::new();
        let limit = MAX_OBJECT_BYTES as u64 + 1;
        let at = self.line_number + 1;
        match std::io::Read::take(&mut self.reader, limit).read_until(b'\n', &mut bytes) {
            Ok(0) => return None,
            Ok(_) => {}
            Err(e) => return Some(Err(format!("cannot read line {at}: {e}"))),
        }
        if bytes.last() == Some(&b'\n') {
            bytes.pop();
            if bytes.last() == Some(&b'\r') {
                bytes.pop();
            }
        } else if bytes.len() > MAX_OBJECT_BYTES {
            return Some(Err(too_large(at)));
        }
        Some(String::from_utf8(bytes).map_err(|_| format!("line {at} is not UTF-8 text")))
    }

    fn end_item(&mut self) {
        self.item_bytes = 0;
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
        self.document_bytes = 0;
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

    /// Adds a line to the object texts; the error is an object text grown past
    /// [`MAX_OBJECT_BYTES`].
    fn take_line(&mut self, line: String) -> Result<(), String> {
        if line == "---" || line.starts_with("--- ") || line == "..." {
            self.end_document();
            return Ok(());
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
                self.item_bytes = line.len() + 1;
                self.item.push(format!("{}{rest}", " ".repeat(indent + 2)));
                return Ok(());
            }
            let inside = !is_content(&line) || indent_of(&line) > indent;
            if inside {
                self.item_bytes += line.len() + 1;
                if self.item_bytes > MAX_OBJECT_BYTES {
                    return Err(too_large(self.item_line));
                }
                self.item.push(line);
                return Ok(());
            }
            self.end_item();
            self.items_indent = None;
        }
        if line.starts_with("items:") && line["items:".len()..].trim().is_empty() {
            self.items_pending = true;
        }
        self.document_bytes += line.len() + 1;
        if self.document_bytes > MAX_OBJECT_BYTES {
            return Err(too_large(self.document_line));
        }
        self.document.push(line);
        Ok(())
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
            match self.next_line() {
                Some(Ok(line)) => {
                    self.line_number += 1;
                    if let Err(e) = self.take_line(line) {
                        self.finished = true;
                        return Some(Err(e));
                    }
                }
                Some(Err(e)) => {
                    self.finished = true;
                    return Some(Err(e));
                }
                None => {
                    self.finished = true;
                    self.end_document();
                }
            }
        }
    }
}

fn too_large(line: usize) -> String {
    format!(
        "the object at line {line} is larger than {} MiB; split the manifest into smaller objects",
        MAX_OBJECT_BYTES >> 20
    )
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
    fn a_key_given_twice_is_an_error_at_the_second_one() {
        let text = "kind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: {x: \"1\"}\n  name: b\n";
        let error = objects_in(text).unwrap_err();
        assert!(error.starts_with("line 8: "), "{error}");
        assert!(error.contains("duplicate key `name`"), "{error}");
        // Quoted or not, JSON or YAML, a key is the same key; in a list item too.
        for text in [
            "{\"kind\": \"Pod\", kind: Service}\n",
            "items:\n- kind: Pod\n  spec: {a: 1, \"a\": 2}\n",
        ] {
            let error = objects_in(text).unwrap_err();
            assert!(error.contains("duplicate key"), "{text}: {error}");
        }
        // The same key in different maps is fine.
        assert_eq!(objects_in("a: {x: 1}\nb: {x: 1}\n").unwrap().len(), 1);
    }

    #[test]
    fn without_duplicate_keys_the_strict_parse_is_the_usual_one() {
        for text in [
            "a: 1\nb: -2\nc: 1.5\nd: .inf\ne: ~\nf: [x, \"y\", 'z']\ng: {h: true}\n",
            "big: 99999999999999999999\nneg: -99999999999999999999\nhuge: 999999999999999999999999999999999999999999\n",
            "1: one\ntrue: yes\nnull: n\n\"q\": |\n  block\n",
            "{\"json\": [1, 2.0, null, {\"k\": \"v\"}]}",
            "",
            "- a\n- b\n",
            "!tagged x\n",
            "key: [unclosed\n",
        ] {
            let usual = yaml_serde::from_str::<Value>(text).map_err(|e| e.to_string());
            let strict = parse_yaml(text).map_err(|e| e.to_string());
            // Values and errors alike, messages included.
            assert_eq!(strict, usual, "{text}");
        }
    }

    #[test]
    fn an_endless_line_stops_at_the_object_limit() {
        // Like `/dev/zero`: no line break, ever.
        let mut texts = ObjectTexts::new(std::io::BufReader::new(std::io::repeat(b'x')));
        let error = texts.next().unwrap().unwrap_err();
        assert_eq!(
            error,
            "the object at line 1 is larger than 64 MiB; split the manifest into smaller objects"
        );
        assert!(texts.next().is_none());
    }

    #[test]
    fn an_object_of_many_lines_stops_at_the_object_limit() {
        let line = format!("  - {}\n", "y".repeat(1 << 20));
        let text = format!("items:\n- a:\n{}", line.repeat(65));
        let results: Vec<_> = ObjectTexts::new(text.as_bytes()).collect();
        assert_eq!(results.len(), 1);
        let error = results[0].as_ref().unwrap_err();
        assert!(
            error.starts_with("the object at line 2 is larger"),
            "{error}"
        );
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
