//! How results are shown: the HTML pages (one stylesheet), SARIF and JUnit for tools, the
//! streamed JSON document, and the terminal-safe text of the human reports. The data comes
//! from elsewhere (the compiler's catalog, [`crate::manifest_check`], [`crate::reports`]).

pub mod html;
pub mod json_stream;
pub mod junit;
pub mod sarif;
pub mod text;
