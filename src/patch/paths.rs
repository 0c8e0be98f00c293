//! Path safety: turning a name from a patch into a path inside the tree.
//!
//! A name from a patch is untrusted. Before it is used it is stripped of its
//! leading components (`-p1`), then refused if it could name anything outside
//! the tree or inside version-control metadata: `..`, absolute paths (also
//! when the absolute path only appears after stripping, as in `b//etc/x`),
//! Windows drive letters and UNC paths, backslashes, NUL and line breaks,
//! `.git` components. What remains is a relative path of plain components
//! separated by `/`, valid UTF-8 so that it means the same on every platform.

use super::error::push_control_escape;
use super::parse::find_byte;

/// Why a name was refused.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct Unsafe {
    /// The name as it was in the patch, made printable.
    pub(crate) name: String,
    pub(crate) reason: &'static str,
}

/// Makes a name printable for an error message: control bytes escaped.
pub(crate) fn printable(name: &[u8]) -> String {
    let s = String::from_utf8_lossy(name);
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => push_control_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// Strips `strip` leading components from `name` and checks what is left.
/// `strip` counts slashes, as `patch -pN` does; a name with fewer components
/// than that is refused.
///
/// Byte by byte, with no `str` searches and no list of components: each
/// kept component goes straight into the result (unoptimised, in a build
/// script, pattern searches and `join` compile to far more than this).
pub(crate) fn safe_path(name: &[u8], strip: usize) -> Result<String, Unsafe> {
    let refuse = |reason| Unsafe {
        name: printable(name),
        reason,
    };
    if name.is_empty() {
        return Err(refuse("the name is empty"));
    }
    if name.contains(&0) {
        return Err(refuse("the name contains a NUL byte"));
    }
    if name.contains(&b'\n') || name.contains(&b'\r') {
        return Err(refuse("the name contains a line break"));
    }
    if name.contains(&b'\\') {
        return Err(refuse("the name contains a backslash"));
    }
    let Ok(name_str) = std::str::from_utf8(name) else {
        return Err(refuse("the name is not valid UTF-8"));
    };
    if name[0] == b'/' {
        return Err(refuse("the name is an absolute path"));
    }
    // Strip exactly `strip` slash-separated components; an empty component
    // left at the front (from `b//etc/x`) makes the rest absolute.
    let mut start = 0;
    for _ in 0..strip {
        match find_byte(name, start, b'/') {
            Some(i) => start = i + 1,
            None => {
                return Err(refuse(
                    "the name has fewer leading components than the strip level",
                ))
            }
        }
    }
    if start < name.len() && name[start] == b'/' {
        return Err(refuse(
            "the name is an absolute path once its prefix is stripped",
        ));
    }
    // The components left, `.` and empty ones dropped, joined by `/`.
    let mut joined = String::with_capacity(name.len() - start);
    let mut first: &[u8] = b"";
    while start <= name.len() {
        let end = find_byte(name, start, b'/').unwrap_or(name.len());
        let part = &name[start..end];
        if part == PARENT {
            return Err(refuse("the name contains a `..` component"));
        }
        if is_dot_git(part) {
            return Err(refuse("the name contains a `.git` component"));
        }
        if !part.is_empty() && part != CURRENT {
            if joined.is_empty() {
                first = part;
            } else {
                joined.push('/');
            }
            // At `/` boundaries, so on character boundaries.
            joined.push_str(&name_str[start..end]);
        }
        start = end + 1;
    }
    if joined.is_empty() {
        return Err(refuse("the name names no file"));
    }
    if first.len() >= 2 && first[0].is_ascii_alphabetic() && first[1] == b':' {
        return Err(refuse("the name starts with a Windows drive letter"));
    }
    if joined.as_bytes().contains(&b':') {
        // `:` names alternate data streams on Windows and is a drive
        // separator; no crate source needs it.
        return Err(refuse("the name contains `:`"));
    }
    Ok(joined)
}

const CURRENT: &[u8] = b".";
const PARENT: &[u8] = b"..";

/// Whether a component is `.git` in any case (`.GIT` is the same folder on
/// case-insensitive file systems).
fn is_dot_git(part: &[u8]) -> bool {
    part.len() == 4
        && part[0] == b'.'
        && part[1].eq_ignore_ascii_case(&b'g')
        && part[2].eq_ignore_ascii_case(&b'i')
        && part[3].eq_ignore_ascii_case(&b't')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &[u8], strip: usize, expected: &str) {
        let got = match safe_path(name, strip) {
            Ok(p) => p,
            Err(e) => format!("refused `{}`: {}", e.name, e.reason),
        };
        assert_eq!(got, expected);
    }

    #[test]
    fn plain_names() {
        check(b"a/src/lib.rs", 1, "src/lib.rs");
        check(b"src/lib.rs", 0, "src/lib.rs");
        check(b"a/./src//lib.rs", 1, "src/lib.rs");
        check(b"pkg.orig/Cargo.toml", 1, "Cargo.toml");
        check(b"a/b/c", 2, "c");
        check("a/ünï cödé".as_bytes(), 1, "ünï cödé");
    }

    #[test]
    fn refused_names() {
        check(
            b"a/../x",
            1,
            "refused `a/../x`: the name contains a `..` component",
        );
        check(
            b"../x",
            0,
            "refused `../x`: the name contains a `..` component",
        );
        check(
            b"/etc/x",
            1,
            "refused `/etc/x`: the name is an absolute path",
        );
        check(
            b"b//etc/x",
            1,
            "refused `b//etc/x`: the name is an absolute path once its prefix is stripped",
        );
        check(
            b"a/C:/x",
            1,
            "refused `a/C:/x`: the name starts with a Windows drive letter",
        );
        check(
            b"a/C:x",
            1,
            "refused `a/C:x`: the name starts with a Windows drive letter",
        );
        check(
            b"\\\\server\\share\\x",
            0,
            "refused `\\\\server\\share\\x`: the name contains a backslash",
        );
        check(
            b"a/..\\..\\x",
            1,
            "refused `a/..\\..\\x`: the name contains a backslash",
        );
        check(
            b"a/x\0y",
            1,
            "refused `a/x\\0y`: the name contains a NUL byte",
        );
        check(
            b"a/x\ny",
            1,
            "refused `a/x\\ny`: the name contains a line break",
        );
        check(
            b"a/.git/config",
            1,
            "refused `a/.git/config`: the name contains a `.git` component",
        );
        check(
            b"a/sub/.GIT/hooks/x",
            1,
            "refused `a/sub/.GIT/hooks/x`: the name contains a `.git` component",
        );
        check(
            b"x",
            1,
            "refused `x`: the name has fewer leading components than the strip level",
        );
        check(b"a/", 1, "refused `a/`: the name names no file");
        check(
            b"a/\xff",
            1,
            "refused `a/\u{fffd}`: the name is not valid UTF-8",
        );
        check(b"", 1, "refused ``: the name is empty");
    }
}
