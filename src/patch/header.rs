//! A patch's header: the text before its first file diff (a DEP-3
//! paragraph, a `git format-patch` mail, free text), and the `Name: value`
//! fields in it (`Description`, `Applies-to`, `Forwarded`, `Bug`, `Origin`,
//! `Applied-Upstream`, …). The one reader of headers, for the library (which
//! version a patch was made for) and the CLI (keeping a header when a patch
//! is refreshed; provenance).

use super::parse::trim_whitespace;

/// The length in bytes of the header of `patch`: everything before the
/// line that starts its first file diff (`diff --git `, another `diff -`
/// command line, `--- `, or quilt's `Index: `).
pub fn header_len(patch: &[u8]) -> usize {
    let mut at = 0;
    while at < patch.len() {
        // The rest starts as its line does: no pattern holds a line break.
        if starts_diff(&patch[at..]) {
            return at;
        }
        while at < patch.len() && patch[at] != b'\n' {
            at += 1;
        }
        at += 1;
    }
    patch.len()
}

fn starts_diff(line: &[u8]) -> bool {
    line.starts_with(b"diff --git ")
        || line.starts_with(b"diff -")
        || line.starts_with(b"--- ")
        || line.starts_with(b"Index: ")
}

/// The `Name: value` fields of the header of `patch`, in order, with
/// continuation lines (starting with a space or a tab) joined to their
/// field by a newline, as DEP-3 writes them. Lines that are not fields
/// (free text, blank lines) are skipped.
pub fn fields(patch: &[u8]) -> Vec<(String, String)> {
    let header = String::from_utf8_lossy(&patch[..header_len(patch)]);
    let mut out: Vec<(String, String)> = Vec::new();
    let mut open = false;
    for line in header.lines() {
        // Every trailing `\r` off, with `strip_suffix`: `trim_end_matches`
        // compiles a reverse char searcher into the crate.
        let mut line = line;
        while let Some(rest) = line.strip_suffix('\r') {
            line = rest;
        }
        if (line.starts_with(' ') || line.starts_with('\t')) && open {
            if let Some((_, value)) = out.last_mut() {
                value.push('\n');
                value.push_str(trim_whitespace(line));
            }
            continue;
        }
        open = false;
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let mut is_name = !name.is_empty();
        for c in name.bytes() {
            is_name &= c.is_ascii_alphanumeric() || c == b'-' || c == b'_';
        }
        if is_name {
            out.push((name.to_string(), trim_whitespace(value).to_string()));
            open = true;
        }
    }
    out
}

/// The value of the first field `name` (compared without case) of the
/// header of `patch`.
pub fn field(patch: &[u8], name: &str) -> Option<String> {
    for (n, v) in &mut fields(patch) {
        if same_ignoring_case(n.as_bytes(), name.as_bytes()) {
            return Some(std::mem::take(v));
        }
    }
    None
}

/// `a.eq_ignore_ascii_case(b)` byte by byte: the standard one reads words
/// at a time and compiles to hundreds of lines, for a few short names.
fn same_ignoring_case(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if !a[i].eq_ignore_ascii_case(&b[i]) {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_ends_at_the_first_diff() {
        for (patch, header) in [
            (
                "Description: x\n\ndiff --git a/f b/f\n",
                "Description: x\n\n",
            ),
            ("Fix it.\n\ndiff -ruN a/f b/f\n--- a/f\n", "Fix it.\n\n"),
            ("--- a/f\n+++ b/f\n", ""),
            ("Index: f\n===\n--- f\n", ""),
            ("only text\n", "only text\n"),
        ] {
            assert_eq!(&patch[..header_len(patch.as_bytes())], header, "{patch:?}");
        }
    }

    #[test]
    fn fields_with_continuations() {
        let patch = b"From: Someone <a@b>\nDescription: fix the parser\n so that it works\n\tand more\nForwarded: https://example.org/pr/1\nfree text: not a field? it is one\nBug-Debian: https://bugs/1\n\n--- a/f\n+++ b/f\nApplied-Upstream: 9.9.9\n";
        let f = fields(patch);
        assert_eq!(
            f[1],
            (
                "Description".into(),
                "fix the parser\nso that it works\nand more".into()
            )
        );
        assert_eq!(
            field(patch, "forwarded").as_deref(),
            Some("https://example.org/pr/1")
        );
        assert_eq!(
            field(patch, "Bug-Debian").as_deref(),
            Some("https://bugs/1")
        );
        // After the first diff nothing counts.
        assert_eq!(field(patch, "Applied-Upstream"), None);
        assert!(f.iter().all(|(n, _)| n != "free text"));
    }
}
