//! Output in Cargo's style: a right-aligned status word in 12 columns, on
//! stderr, coloured only on a terminal.

use std::io::{IsTerminal, Write};

/// Status output in Cargo's style: a right-aligned word in 12 columns,
/// coloured only on a terminal.
pub struct Shell {
    color: bool,
}

impl Shell {
    pub fn new() -> Shell {
        Shell {
            color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        }
    }

    fn print(&self, word: &str, code: &str, text: &str, align: bool) {
        let word = if align {
            format!("{word:>12}")
        } else {
            word.to_string()
        };
        let mut err = std::io::stderr().lock();
        let _ = if self.color {
            writeln!(err, "\x1b[1;{code}m{word}\x1b[0m {text}")
        } else {
            writeln!(err, "{word} {text}")
        };
    }

    pub fn status(&self, word: &str, text: &str) {
        self.print(word, "32", text, true);
    }

    pub fn warn(&self, text: &str) {
        self.print("warning:", "33", text, false);
    }

    pub fn error(&self, text: &str) {
        self.print("error:", "31", text, false);
    }
}

impl Shell {
    /// A note for the user, after the status lines.
    pub fn note(&self, text: &str) {
        self.print("note:", "36", text, false);
    }
}
