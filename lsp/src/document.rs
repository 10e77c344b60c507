//! One text buffer with its line index, edited the way LSP clients send changes: ranges in
//! 0-based lines and UTF-16 columns.

use guardrailc_compiler::span::LineIndex;

/// A position as the protocol counts it: 0-based line, UTF-16 column.
pub type Position = (u32, u32);

#[derive(Clone, Debug)]
pub struct Document {
    text: String,
    lines: LineIndex,
}

impl Document {
    pub fn new(text: String) -> Document {
        let lines = LineIndex::new(&text);
        Document { text, lines }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The byte offset of a position; positions past a line's end or inside a character
    /// land on the character boundary before them.
    pub fn offset(&self, position: Position) -> usize {
        self.lines
            .offset_of_utf16(&self.text, position.0, position.1)
    }

    pub fn position(&self, offset: usize) -> Position {
        self.lines.utf16_position(&self.text, offset)
    }

    /// Replaces `range` (the whole text when None) by `new_text`.
    pub fn edit(&mut self, range: Option<(Position, Position)>, new_text: &str) {
        match range {
            None => self.text = new_text.to_string(),
            Some((start, end)) => {
                let start = self.offset(start);
                let end = self.offset(end).max(start);
                self.text.replace_range(start..end, new_text);
            }
        }
        self.lines = LineIndex::new(&self.text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_count_utf16_columns() {
        // `é` is one UTF-16 unit and two bytes; `😀` is two units and four bytes.
        let mut doc = Document::new("é😀x\nab".into());
        doc.edit(Some(((0, 3), (0, 4))), "y");
        assert_eq!(doc.text(), "é😀y\nab");
        doc.edit(Some(((1, 1), (1, 1))), "Z");
        assert_eq!(doc.text(), "é😀y\naZb");
    }

    #[test]
    fn a_position_inside_a_surrogate_pair_lands_before_the_character() {
        let mut doc = Document::new("a😀b".into());
        doc.edit(Some(((0, 2), (0, 2))), "-");
        assert_eq!(doc.text(), "a-😀b");
        assert_eq!(doc.position(doc.text().len()), (0, 5));
    }
}
