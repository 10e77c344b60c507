//! Source positions. A [`Span`] is a byte range in one source; [`LineIndex`] turns byte
//! offsets into the line/column pairs that the CLI (1-based, characters) and the LSP
//! (0-based, UTF-16 code units) show. CR, LF and CRLF each end a line, as in the LSP.

use serde::Serialize;

/// Which source a span points into: the index of the source in the list the caller handed
/// to the compiler.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct SourceId(pub u32);

/// A half-open byte range `[start, end)` in one source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize)]
pub struct Span {
    pub source: SourceId,
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn new(source: SourceId, start: usize, end: usize) -> Span {
        Span {
            source,
            start: start as u32,
            end: end as u32,
        }
    }

    /// The smallest span that covers both.
    pub fn to(self, other: Span) -> Span {
        Span {
            source: self.source,
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    pub fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

/// Line starts of one text, for offset → position conversion.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// Every [`CHECKPOINT`] bytes, the characters and UTF-16 units before that offset: a
    /// column is then found by counting at most that many bytes, however long its line.
    checkpoints: Vec<Checkpoint>,
}

/// The distance between checkpoints, in bytes.
const CHECKPOINT: usize = 1024;

#[derive(Clone, Copy, Debug)]
struct Checkpoint {
    offset: usize,
    chars: usize,
    utf16: usize,
}

/// A position as people count it: 1-based line, 1-based column in characters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(line_ends(text).map(|(_, next)| next));
        LineIndex {
            starts,
            checkpoints: checkpoints(text),
        }
    }

    /// Characters and UTF-16 units in `text[start..offset]` (both on character boundaries):
    /// counted when near, else from the checkpoints.
    fn counts_between(&self, text: &str, start: usize, offset: usize) -> (usize, usize) {
        if offset - start <= CHECKPOINT {
            let part = &text[start..offset];
            return (
                part.chars().count(),
                part.chars().map(char::len_utf16).sum(),
            );
        }
        let (chars_to, utf16_to) = self.counts_before(text, offset);
        let (chars_from, utf16_from) = self.counts_before(text, start);
        (chars_to - chars_from, utf16_to - utf16_from)
    }

    /// Characters and UTF-16 units in `text[..offset]` (`offset` on a character boundary).
    fn counts_before(&self, text: &str, offset: usize) -> (usize, usize) {
        let index = self.checkpoints.partition_point(|c| c.offset <= offset) - 1;
        let from = self.checkpoints[index];
        let rest = &text[from.offset..offset];
        (
            from.chars + rest.chars().count(),
            from.utf16 + rest.chars().map(char::len_utf16).sum::<usize>(),
        )
    }

    /// 0-based line of a byte offset.
    pub fn line_of(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(line) => line,
            Err(next) => next - 1,
        }
    }

    pub fn line_start(&self, line: usize) -> usize {
        self.starts[line.min(self.starts.len() - 1)]
    }

    /// Where line `line` (0-based) ends in `text`: the start of the next line, its line break
    /// included, or the end of the text.
    pub fn line_end(&self, text: &str, line: usize) -> usize {
        self.starts.get(line + 1).copied().unwrap_or(text.len())
    }

    pub fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// 1-based line and character column of a byte offset (clamped to the text).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let column = self.counts_between(text, self.starts[line], offset).0 + 1;
        LineCol {
            line: line + 1,
            column,
        }
    }

    /// 0-based line and UTF-16 column of a byte offset, as the LSP counts.
    pub fn utf16_position(&self, text: &str, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let line = self.line_of(offset);
        let column = self.counts_between(text, self.starts[line], offset).1;
        (line as u32, column as u32)
    }

    /// Byte offset of a 0-based line and UTF-16 column; a column past the end of the line, or
    /// inside a surrogate pair, lands on the nearest character boundary before it.
    pub fn offset_of_utf16(&self, text: &str, line: u32, column: u32) -> usize {
        let line = line as usize;
        if line >= self.starts.len() {
            return text.len();
        }
        let start = self.starts[line];
        let end = self.line_end(text, line);
        let mut units = 0u32;
        for (i, ch) in text[start..end].char_indices() {
            if ch == '\n' || ch == '\r' || units + ch.len_utf16() as u32 > column {
                return start + i;
            }
            units += ch.len_utf16() as u32;
        }
        end
    }
}

/// Every line break of `text` (LF, CR, or CRLF as one): where it starts and where the next
/// line starts.
pub fn line_ends(text: &str) -> impl Iterator<Item = (usize, usize)> + '_ {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter_map(move |(i, &byte)| match byte {
            b'\n' if i > 0 && bytes[i - 1] == b'\r' => None,
            b'\n' => Some((i, i + 1)),
            b'\r' if bytes.get(i + 1) == Some(&b'\n') => Some((i, i + 2)),
            b'\r' => Some((i, i + 1)),
            _ => None,
        })
}

/// How many line breaks `text` holds (a CRLF counts once).
pub fn count_line_ends(text: &str) -> usize {
    line_ends(text).count()
}

/// `text` with every lone CR turned into LF: the same length and offsets, for tools that
/// only know LF (codespan-reporting) to count lines as [`LineIndex`] does.
pub fn lone_cr_as_lf(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('\r') {
        return std::borrow::Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut rest = 0;
    for (i, next) in line_ends(text) {
        if bytes[i] == b'\r' && next == i + 1 {
            out.push_str(&text[rest..i]);
            out.push('\n');
            rest = next;
        }
    }
    out.push_str(&text[rest..]);
    std::borrow::Cow::Owned(out)
}

fn checkpoints(text: &str) -> Vec<Checkpoint> {
    let mut checkpoints = vec![Checkpoint {
        offset: 0,
        chars: 0,
        utf16: 0,
    }];
    let (mut chars, mut utf16) = (0, 0);
    let mut next = CHECKPOINT;
    for (offset, ch) in text.char_indices() {
        if offset >= next {
            checkpoints.push(Checkpoint {
                offset,
                chars,
                utf16,
            });
            next = offset + CHECKPOINT;
        }
        chars += 1;
        utf16 += ch.len_utf16();
    }
    checkpoints
}

/// The largest character boundary at or before `offset` (which must be within `text`).
pub fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_not_bytes() {
        let text = "ab\nçé x\n";
        let index = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(index.line_col(text, x), LineCol { line: 2, column: 4 });
        assert_eq!(index.line_col(text, 0), LineCol { line: 1, column: 1 });
    }

    #[test]
    fn cr_lf_and_crlf_each_end_one_line() {
        let text = "a\rb\r\nc\nd";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        let d = text.find('d').unwrap();
        assert_eq!(index.line_col(text, d), LineCol { line: 4, column: 1 });
        let b = text.find('b').unwrap();
        assert_eq!(index.utf16_position(text, b), (1, 0));
        // A column past the end of line 1 stops at its CR.
        assert_eq!(index.offset_of_utf16(text, 1, 9), b + 1);
        assert_eq!(count_line_ends(text), 3);
        assert_eq!(lone_cr_as_lf(text), "a\nb\r\nc\nd");
    }

    #[test]
    fn columns_on_long_lines_count_from_the_line_start_across_checkpoints() {
        let text = format!("x\n{}é😀{}\n", "a".repeat(3000), "b".repeat(5000));
        let index = LineIndex::new(&text);
        for offset in (0..=text.len()).filter(|&o| text.is_char_boundary(o)) {
            let start = index.line_start(index.line_of(offset));
            let expected = text[start..offset].chars().count() + 1;
            assert_eq!(index.line_col(&text, offset).column, expected, "{offset}");
            let units: usize = text[start..offset].chars().map(char::len_utf16).sum();
            assert_eq!(index.utf16_position(&text, offset).1 as usize, units);
        }
    }

    #[test]
    fn utf16_round_trip_through_astral_characters() {
        let text = "a😀b\nc";
        let index = LineIndex::new(text);
        let b = text.find('b').unwrap();
        assert_eq!(index.utf16_position(text, b), (0, 3));
        assert_eq!(index.offset_of_utf16(text, 0, 3), b);
        // column 2 is inside the surrogate pair: land before the emoji
        assert_eq!(index.offset_of_utf16(text, 0, 2), 1);
        assert_eq!(index.offset_of_utf16(text, 1, 9), text.len());
        assert_eq!(index.offset_of_utf16(text, 7, 0), text.len());
    }
}
