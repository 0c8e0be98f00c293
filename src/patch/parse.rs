//! Parsing: patch bytes in, a list of per-file changes out.
//!
//! Only unified diffs are understood, in the flavours real projects send:
//! `diff -u`/`diff -ruN` output with timestamps, git diffs (with their
//! extended headers), `git format-patch` mails, quilt patches with `Index:`
//! lines and Debian patches with a DEP-3 description on top. Everything that
//! is not part of a diff (mail headers, descriptions, diffstats, signatures) is
//! skipped, as GNU patch skips it. Other diff formats are refused rather than
//! guessed at; ed scripts in particular are never executed.
//!
//! Lines are byte slices that keep their line terminator, so CRLF files and
//! non-UTF-8 bytes go through untouched.

/// One patch file: the changes it makes to each file, in order.
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) struct Patch {
    pub(crate) files: Vec<FilePatch>,
}

/// A name from a `---`/`+++` line, before any prefix is stripped.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct HeaderName {
    /// The name, unquoted; empty for `/dev/null`.
    pub(crate) raw: Vec<u8>,
    /// The name is `/dev/null`: this side of the diff does not exist.
    pub(crate) dev_null: bool,
    /// The timestamp is the epoch, which `diff -N` uses for a missing file.
    pub(crate) epoch: bool,
}

/// The extended header lines of a git diff.
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) struct GitHeader {
    /// Names from the `diff --git a/x b/y` line, when they could be split.
    pub(crate) a: Option<Vec<u8>>,
    pub(crate) b: Option<Vec<u8>>,
    pub(crate) old_mode: Option<u32>,
    pub(crate) new_mode: Option<u32>,
    pub(crate) new_file_mode: Option<u32>,
    pub(crate) deleted_file_mode: Option<u32>,
    pub(crate) rename_from: Option<Vec<u8>>,
    pub(crate) rename_to: Option<Vec<u8>>,
    pub(crate) copy_from: Option<Vec<u8>>,
    pub(crate) copy_to: Option<Vec<u8>>,
}

/// The change a patch makes to one file.
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) struct FilePatch {
    /// 1-based line of the patch where this file's header starts.
    pub(crate) line: usize,
    pub(crate) git: Option<GitHeader>,
    pub(crate) old: Option<HeaderName>,
    pub(crate) new: Option<HeaderName>,
    pub(crate) hunks: Vec<Hunk>,
}

/// What a line of a hunk does.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub(crate) enum LineKind {
    Context,
    Delete,
    Insert,
}

/// One line of a hunk body, its text with its line terminator (if any).
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct HunkLine {
    pub(crate) kind: LineKind,
    pub(crate) text: Vec<u8>,
}

/// One `@@` hunk.
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) struct Hunk {
    /// 1-based line of the `@@` header in the patch.
    pub(crate) line: usize,
    /// The `@@` header as written, without its line terminator.
    pub(crate) header: String,
    pub(crate) old_start: usize,
    pub(crate) old_count: usize,
    pub(crate) new_start: usize,
    pub(crate) new_count: usize,
    pub(crate) lines: Vec<HunkLine>,
}

/// Why a patch could not be parsed.
#[derive(PartialEq, Eq)]
#[cfg_attr(test, derive(Debug, Clone))]
pub(crate) enum ParseErrorKind {
    /// Nothing that looks like a diff.
    NotAPatch,
    /// A diff in a format build-patch does not apply.
    Unsupported,
    /// A unified diff that is damaged.
    Malformed,
}

/// A parse failure at a line of the patch.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct ParseError {
    pub(crate) kind: ParseErrorKind,
    /// 1-based line of the patch, 0 when not about one line.
    pub(crate) line: usize,
    pub(crate) message: String,
}

fn err(kind: ParseErrorKind, line: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        kind,
        line,
        message: message.into(),
    }
}

/// Splits `bytes` into lines, each keeping its `\n`; the last line may lack one.
pub(crate) fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let starts = line_starts(bytes);
    let mut lines = Vec::with_capacity(starts.len() - 1);
    for i in 1..starts.len() {
        lines.push(&bytes[starts[i - 1]..starts[i]]);
    }
    lines
}

/// Where each line of `bytes` starts, plus `bytes.len()` at the end: line
/// `i` is `bytes[starts[i]..starts[i + 1]]`, with its `\n`, and there are
/// `starts.len() - 1` lines.
///
/// Looks for `\n` eight bytes at a time. Plain indexing and `as` casts, no
/// iterator adapters: build scripts run this unoptimised, where every
/// adapter method is a call (a plain loop over bytes was the slowest part of
/// applying a large patch).
pub(crate) fn line_starts(bytes: &[u8]) -> Vec<usize> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    let mut starts = Vec::with_capacity(bytes.len() / 32 + 2);
    starts.push(0);
    let (words, tail) = bytes.as_chunks::<8>();
    let mut w = 0;
    while w < words.len() {
        let word = u64::from_le_bytes(words[w]);
        // The high bit of each byte of `found` is set exactly where `word`
        // has a `\n` (no carry crosses bytes: 0x7f + 0x7f < 0x100).
        let x = word ^ NEWLINES;
        let mut found = !(((x & LOW7) + LOW7) | x | LOW7);
        while found != 0 {
            starts.push(w * 8 + (found.trailing_zeros() / 8) as usize + 1);
            found &= found - 1;
        }
        w += 1;
    }
    let mut i = words.len() * 8;
    for &b in tail {
        i += 1;
        if b == b'\n' {
            starts.push(i);
        }
    }
    if starts[starts.len() - 1] != bytes.len() {
        starts.push(bytes.len());
    }
    starts
}

/// The line without its `\n` or `\r\n`.
fn trim_eol(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    if end > 0 && line[end - 1] == b'\n' {
        end -= 1;
    }
    if end > 0 && line[end - 1] == b'\r' {
        end -= 1;
    }
    &line[..end]
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Parses a whole patch file.
pub(crate) fn parse(bytes: &[u8]) -> Result<Patch, ParseError> {
    let lines = split_lines(bytes);
    let mut files = Vec::new();
    let mut i = 0;
    let mut saw_other_format: Option<(usize, &'static str)> = None;
    while i < lines.len() {
        let line = lines[i];
        let t = trim_eol(line);
        if t.starts_with(b"diff --git ") {
            let (fp, next) = parse_git(&lines, i)?;
            files.push(fp);
            i = next;
            continue;
        }
        if t.starts_with(b"@@ -") {
            return Err(err(
                ParseErrorKind::Malformed,
                i + 1,
                format!(
                    "hunk header `{}` does not follow a file header (`---`/`+++` or `diff --git`)",
                    lossy(t)
                ),
            ));
        }
        // Quilt's `Index:` lines are skipped: like GNU patch, the names on
        // the `---`/`+++` lines decide.
        if t.starts_with(b"--- ")
            && i + 1 < lines.len()
            && trim_eol(lines[i + 1]).starts_with(b"+++ ")
        {
            let (fp, next) = parse_unified_file(&lines, i, None)?;
            files.push(fp);
            i = next;
            continue;
        }
        if t.starts_with(b"*** ")
            && i + 2 < lines.len()
            && trim_eol(lines[i + 1]).starts_with(b"--- ")
            && trim_eol(lines[i + 2]).starts_with(b"***************")
        {
            return Err(err(
                ParseErrorKind::Unsupported,
                i + 1,
                "unsupported format: this is a context diff (`***`/`---`); only unified diffs are supported, regenerate it with `diff -u` or `git diff`",
            ));
        }
        if t.starts_with(b"Binary files ") && t.ends_with(b" differ") {
            return Err(err(
                ParseErrorKind::Unsupported,
                i + 1,
                "unsupported: binary file changes (`Binary files ... differ`) carry no content to apply",
            ));
        }
        if let Some(what) = classic_command(t) {
            // A normal diff's command followed by its `<`/`>` lines is
            // unmistakable: refuse it even next to unified diffs, rather than
            // skip its changes.
            let next: &[u8] = if i + 1 < lines.len() {
                lines[i + 1]
            } else {
                b""
            };
            if what.starts_with("a normal diff")
                && (next.starts_with(b"< ") || next.starts_with(b"> "))
            {
                return Err(other_format(i + 1, what));
            }
            if saw_other_format.is_none() {
                saw_other_format = Some((i + 1, what));
            }
        }
        i += 1;
    }
    if files.is_empty() {
        if let Some((line, what)) = saw_other_format {
            return Err(other_format(line, what));
        }
        return Err(err(
            ParseErrorKind::NotAPatch,
            0,
            "not a patch: no `---`/`+++` or `diff --git` header found",
        ));
    }
    Ok(Patch { files })
}

/// The refusal of a normal diff or an ed script (`what`, from
/// [`classic_command`]) at `line`.
fn other_format(line: usize, what: &str) -> ParseError {
    err(
        ParseErrorKind::Unsupported,
        line,
        format!("unsupported format: this looks like {what}; only unified diffs are supported, regenerate it with `diff -u` or `git diff`"),
    )
}

/// Recognises the command lines of normal diffs (`5c5`, `3,4d2`) and ed
/// scripts (`5c`, `3,4d`), so that such a file gets a precise refusal.
fn classic_command(t: &[u8]) -> Option<&'static str> {
    let i = line_range(t, 0)?;
    if i >= t.len() || !matches!(t[i], b'a' | b'c' | b'd') {
        return None;
    }
    if i + 1 == t.len() {
        return Some("an ed script");
    }
    if line_range(t, i + 1)? == t.len() {
        return Some("a normal diff (`diff` without `-u`)");
    }
    None
}

/// Skips a line range `N` or `N,M` of a classic diff command at `t[i..]`,
/// returning where it ends, or `None` if there is none.
fn line_range(t: &[u8], mut i: usize) -> Option<usize> {
    let mut numbers = 0;
    loop {
        let start = i;
        while i < t.len() && t[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        numbers += 1;
        if numbers == 2 || i >= t.len() || t[i] != b',' {
            return Some(i);
        }
        i += 1;
    }
}

/// Decodes a C-quoted git name (`"a/x\tb"`), returning it and the rest of
/// the input after the closing quote.
pub(crate) fn unquote(s: &[u8]) -> Option<(Vec<u8>, &[u8])> {
    if !s.starts_with(b"\"") {
        return None;
    }
    let s = &s[1..];
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        match s[i] {
            b'"' => return Some((out, &s[i + 1..])),
            b'\\' => {
                let c = *s.get(i + 1)?;
                i += 2;
                match c {
                    b'a' | b'b' | b't' | b'n' | b'v' | b'f' | b'r' | b'\\' | b'"' => {
                        out.push(escaped(c));
                    }
                    b'0'..=b'7' => {
                        let mut v = u32::from(c - b'0');
                        for _ in 0..2usize {
                            match s.get(i) {
                                Some(d @ b'0'..=b'7') => {
                                    v = v * 8 + u32::from(d - b'0');
                                    i += 1;
                                }
                                _ => return None,
                            }
                        }
                        if v > 0xff {
                            return None;
                        }
                        out.push(v as u8);
                    }
                    _ => return None,
                }
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// The byte a C escape `\c` (not an octal one) stands for.
fn escaped(c: u8) -> u8 {
    match c {
        b'a' => 7,
        b'b' => 8,
        b't' => b'\t',
        b'n' => b'\n',
        b'v' => 11,
        b'f' => 12,
        b'r' => b'\r',
        _ => c,
    }
}

/// Whether a `---`/`+++` timestamp is the Unix epoch, which `diff -N`
/// writes for a file that does not exist: `1970-01-01 00:00:00[.f] +0000`,
/// or the same instant in another zone (`1969-12-31 19:00:00 -0500`). A
/// timestamp without a zone is taken as UTC; the traditional `Thu Jan  1
/// 00:00:00 1970` form is recognised too.
fn is_epoch(ts: &[u8]) -> bool {
    let ts = String::from_utf8_lossy(ts);
    let ts = trim_whitespace(&ts);
    if ts.starts_with("Thu Jan  1 00:00:00") && ts.ends_with(" 1970") {
        return true;
    }
    let Some((date, rest)) = first_word(ts) else {
        return false;
    };
    let Some((time, rest)) = first_word(rest) else {
        return false;
    };
    let day = match date {
        "1970-01-01" => 0,
        "1969-12-31" => -1,
        _ => return false,
    };
    let time = time.split('.').next().unwrap_or(time);
    // Exactly three numbers (what does not parse is skipped).
    let mut hms = [0i64; 3];
    let mut count = 0;
    for p in time.split(':') {
        if let Ok(v) = p.parse::<i64>() {
            if count < 3 {
                hms[count] = v;
            }
            count += 1;
        }
    }
    if count != 3 {
        return false;
    }
    let [h, m, sec] = hms;
    let zone = match first_word(rest) {
        None => 0,
        Some((z, _)) => {
            let (sign, digits) = match z.as_bytes().first() {
                Some(b'+') => (1, &z[1..]),
                Some(b'-') => (-1, &z[1..]),
                _ => return false,
            };
            let (Ok(zh), Ok(zm)) = (
                digits.get(..2).unwrap_or("x").parse::<i64>(),
                digits.get(2..).unwrap_or("x").parse::<i64>(),
            ) else {
                return false;
            };
            sign * (zh * 3600 + zm * 60)
        }
    };
    day * 86400 + h * 3600 + m * 60 + sec - zone == 0
}

const DEV_NULL: &[u8] = b"/dev/null";

/// Parses the name part of a `---`/`+++` line: a quoted name, or a name up
/// to a tab, or a name followed by a date.
fn header_name(rest: &[u8], line: usize) -> Result<HeaderName, ParseError> {
    let (name, ts): (Vec<u8>, &[u8]) = if rest.starts_with(b"\"") {
        match unquote(rest) {
            Some((n, after)) => (n, after),
            None => {
                return Err(err(
                    ParseErrorKind::Malformed,
                    line,
                    "malformed quoted file name",
                ))
            }
        }
    } else if let Some(tab) = find_byte(rest, 0, b'\t') {
        (rest[..tab].to_vec(), &rest[tab + 1..])
    } else {
        // No tab: a date may still follow after a space (`diff -u` of some
        // tools). A date starts with a digit, as in `2020-01-01 ...`.
        let mut cut = rest.len();
        let mut i = 0;
        while i + 1 < rest.len() {
            if rest[i] == b' ' && looks_like_date(&rest[i + 1..]) {
                cut = i;
                break;
            }
            i += 1;
        }
        let ts = if cut < rest.len() {
            &rest[cut + 1..]
        } else {
            &[][..]
        };
        (rest[..cut].to_vec(), ts)
    };
    let dev_null = name.as_slice() == DEV_NULL;
    Ok(HeaderName {
        raw: if dev_null { Vec::new() } else { name },
        dev_null,
        epoch: is_epoch(ts),
    })
}

/// Whether `s` starts like a date, `NNNN-NN-` (at least ten bytes).
fn looks_like_date(s: &[u8]) -> bool {
    if s.len() < 10 {
        return false;
    }
    let mut i = 0;
    while i < 8 {
        let dash = i == 4 || i == 7;
        if (dash && s[i] != b'-') || (!dash && !s[i].is_ascii_digit()) {
            return false;
        }
        i += 1;
    }
    true
}

/// Parses a `diff --git` section starting at `start`.
fn parse_git(lines: &[&[u8]], start: usize) -> Result<(FilePatch, usize), ParseError> {
    let first = trim_eol(lines[start]);
    let rest = &first[b"diff --git ".len()..];
    let (a, b) = split_git_names(rest);
    let mut git = GitHeader {
        a,
        b,
        old_mode: None,
        new_mode: None,
        new_file_mode: None,
        deleted_file_mode: None,
        rename_from: None,
        rename_to: None,
        copy_from: None,
        copy_to: None,
    };
    let mut i = start + 1;
    while i < lines.len() {
        let t = trim_eol(lines[i]);
        let lineno = i + 1;
        if let Some((k, r)) = git_field(t) {
            if k < 4 {
                let m = git_mode(r, lineno)?;
                let slot = match k {
                    0 => &mut git.old_mode,
                    1 => &mut git.new_mode,
                    2 => &mut git.new_file_mode,
                    _ => &mut git.deleted_file_mode,
                };
                *slot = Some(m);
            } else {
                let n = git_path(r);
                let slot = match k {
                    4 => &mut git.rename_from,
                    5 => &mut git.rename_to,
                    6 => &mut git.copy_from,
                    _ => &mut git.copy_to,
                };
                *slot = Some(n);
            }
        } else if t.starts_with(b"index ") {
            let r = &t[b"index ".len()..];
            // `index abc..def 100644`: the mode, if any, must be one we handle.
            if let Some(sp) = find_byte(r, 0, b' ') {
                git_mode(&r[sp + 1..], lineno)?;
            }
        } else if t.starts_with(b"similarity index ") || t.starts_with(b"dissimilarity index ") {
        } else if t.starts_with(b"GIT binary patch")
            || (t.starts_with(b"Binary files ") && t.ends_with(b" differ"))
        {
            return Err(err(
                ParseErrorKind::Unsupported,
                lineno,
                "unsupported: binary patch (`GIT binary patch`); build-patch applies text diffs only",
            ));
        } else {
            break;
        }
        i += 1;
    }
    check_git_pairs(&git, start + 1)?;
    if i + 1 < lines.len()
        && trim_eol(lines[i]).starts_with(b"--- ")
        && trim_eol(lines[i + 1]).starts_with(b"+++ ")
    {
        return parse_unified_file(lines, i, Some((git, start + 1)));
    }
    if i < lines.len() && trim_eol(lines[i]).starts_with(b"@@ ") {
        return Err(err(
            ParseErrorKind::Malformed,
            i + 1,
            "hunk without `---`/`+++` header lines",
        ));
    }
    Ok((
        FilePatch {
            line: start + 1,
            git: Some(git),
            old: None,
            new: None,
            hunks: Vec::new(),
        },
        i,
    ))
}

/// The extended header lines of a git diff that set a field: the first
/// four give a mode, the others a name.
const GIT_FIELDS: [&[u8]; 8] = [
    b"old mode ",
    b"new mode ",
    b"new file mode ",
    b"deleted file mode ",
    b"rename from ",
    b"rename to ",
    b"copy from ",
    b"copy to ",
];

/// Which of [`GIT_FIELDS`] the line `t` is, and the rest of it.
fn git_field(t: &[u8]) -> Option<(usize, &[u8])> {
    let mut k = 0;
    while k < GIT_FIELDS.len() {
        if t.starts_with(GIT_FIELDS[k]) {
            return Some((k, &t[GIT_FIELDS[k].len()..]));
        }
        k += 1;
    }
    None
}

/// An octal mode of a git header line, which must be one build-patch
/// handles.
fn git_mode(s: &[u8], line: usize) -> Result<u32, ParseError> {
    // Not UTF-8, it is not a number either.
    let text = match std::str::from_utf8(s) {
        Ok(text) => trim_whitespace(text),
        Err(_) => "",
    };
    // Read at the crate's one integer width (less code to compile).
    let m = match i64::from_str_radix(text, 8) {
        Ok(m) if !text.starts_with('-') && m <= i64::from(u32::MAX) => m as u32,
        _ => return Err(err(ParseErrorKind::Malformed, line, "malformed file mode")),
    };
    check_mode(m, line)?;
    Ok(m)
}

/// A name of a git header line, unquoted when quoted.
fn git_path(s: &[u8]) -> Vec<u8> {
    if s.starts_with(b"\"") {
        if let Some((n, _)) = unquote(s) {
            return n;
        }
    }
    s.to_vec()
}

fn check_mode(m: u32, line: usize) -> Result<(), ParseError> {
    match m & 0o170000 {
        0o120000 => Err(err(
            ParseErrorKind::Unsupported,
            line,
            "unsupported: symbolic links (mode 120000) are never created or changed by build-patch",
        )),
        0o160000 => Err(err(
            ParseErrorKind::Unsupported,
            line,
            "unsupported: git submodules (mode 160000) cannot be patched",
        )),
        0o100000 | 0 => Ok(()),
        _ => Err(err(
            ParseErrorKind::Unsupported,
            line,
            format!("unsupported file mode {m:o}: only regular files are patched"),
        )),
    }
}

fn check_git_pairs(git: &GitHeader, line: usize) -> Result<(), ParseError> {
    if git.rename_from.is_some() != git.rename_to.is_some() {
        return Err(err(
            ParseErrorKind::Malformed,
            line,
            "rename header names only one side (`rename from` and `rename to` must both be present)",
        ));
    }
    if git.copy_from.is_some() != git.copy_to.is_some() {
        return Err(err(
            ParseErrorKind::Malformed,
            line,
            "copy header names only one side (`copy from` and `copy to` must both be present)",
        ));
    }
    if git.rename_from.is_some() && git.copy_from.is_some() {
        return Err(err(
            ParseErrorKind::Malformed,
            line,
            "a git diff cannot both rename and copy a file",
        ));
    }
    if git.new_file_mode.is_some() && git.deleted_file_mode.is_some() {
        return Err(err(
            ParseErrorKind::Malformed,
            line,
            "a git diff cannot both create and delete a file",
        ));
    }
    Ok(())
}

/// Splits `a/x b/y` from a `diff --git` line. Unquoted names may contain
/// spaces, so when both are unquoted the line is split where the two halves
/// name the same path (which they do unless the file is renamed, and then
/// `rename from`/`rename to` give the names).
fn split_git_names(rest: &[u8]) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    if rest.starts_with(b"\"") {
        let Some((a, after)) = unquote(rest) else {
            return (None, None);
        };
        let after = if after.starts_with(b" ") {
            &after[1..]
        } else {
            after
        };
        let b = if after.starts_with(b"\"") {
            unquoted(after)
        } else {
            Some(after.to_vec())
        };
        return (Some(a), b);
    }
    let n = rest.len();
    let mut q = 0;
    while q + 1 < n {
        if rest[q] == b' ' && rest[q + 1] == b'"' {
            return (Some(rest[..q].to_vec()), unquoted(&rest[q + 1..]));
        }
        q += 1;
    }
    // Symmetric split: "P/x Q/x" with the same x after the first slash.
    if n % 2 == 1 {
        let half = n / 2;
        if rest[half] == b' ' {
            let (a, b) = (&rest[..half], &rest[half + 1..]);
            if let (Some(ta), Some(tb)) = (from_slash(a), from_slash(b)) {
                if ta == tb {
                    return (Some(a.to_vec()), Some(b.to_vec()));
                }
            }
        }
    }
    // Otherwise split at the last " b/"-like boundary, best effort.
    let mut p = n;
    while p >= 3 {
        p -= 1;
        if rest[p] == b'/' && rest[p - 2] == b' ' {
            let p = p - 2;
            return (Some(rest[..p].to_vec()), Some(rest[p + 1..].to_vec()));
        }
    }
    (None, None)
}

/// A quoted name, unquoted.
fn unquoted(s: &[u8]) -> Option<Vec<u8>> {
    let (name, _) = unquote(s)?;
    Some(name)
}

/// `s` from its first `/` on.
fn from_slash(s: &[u8]) -> Option<&[u8]> {
    let i = find_byte(s, 0, b'/')?;
    Some(&s[i..])
}

/// `s` without its leading and trailing whitespace, as `str::trim` takes it
/// off (Unicode `White_Space`). One forward loop over the chars: `trim`
/// compiled its searchers and a reverse char decoder here, some 600 lines of
/// LLVM IR.
pub(crate) fn trim_whitespace(s: &str) -> &str {
    let (mut start, mut end) = (None, 0);
    for (i, c) in s.char_indices() {
        if !c.is_whitespace() {
            if start.is_none() {
                start = Some(i);
            }
            end = i + c.len_utf8();
        }
    }
    match start {
        Some(start) => &s[start..end],
        None => "",
    }
}

/// The first word of `s` and the text after it, words being separated by
/// whitespace as `str::split_whitespace` separates them (Unicode
/// `White_Space`); `None` when `s` has no word. A loop over the chars:
/// `split_whitespace` compiled to some 500 lines of LLVM IR.
pub(crate) fn first_word(s: &str) -> Option<(&str, &str)> {
    let mut start = None;
    for (i, c) in s.char_indices() {
        match (start, c.is_whitespace()) {
            (None, false) => start = Some(i),
            (Some(word), true) => return Some((&s[word..i], &s[i..])),
            _ => {}
        }
    }
    match start {
        Some(word) => Some((&s[word..], "")),
        None => None,
    }
}

/// The index of the first `b` in `s` at or after `from` (a loop:
/// unoptimised, an iterator's `position` with a closure compiles to several
/// functions per use).
pub(crate) fn find_byte(s: &[u8], from: usize, b: u8) -> Option<usize> {
    let mut i = from;
    while i < s.len() {
        if s[i] == b {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Parses `---`, `+++` and the hunks that follow, starting at `start`.
fn parse_unified_file(
    lines: &[&[u8]],
    start: usize,
    git: Option<(GitHeader, usize)>,
) -> Result<(FilePatch, usize), ParseError> {
    let old = header_name(&trim_eol(lines[start])[4..], start + 1)?;
    let new = header_name(&trim_eol(lines[start + 1])[4..], start + 2)?;
    // As GNU patch: a `+++` line ending in CRLF means the patch file itself
    // was converted to CRLF (say by a Windows checkout), so the CR of every
    // hunk line is not part of the text.
    let strip_cr = lines[start + 1].ends_with(b"\r\n");
    // Errors in the hunks say which file's diff they are in.
    let shown = if new.dev_null { &old.raw } else { &new.raw };
    let shown = lossy(shown);
    let mut i = start + 2;
    let mut hunks = Vec::new();
    while i < lines.len() && trim_eol(lines[i]).starts_with(b"@@ ") {
        match parse_hunk(lines, i, hunks.len() + 1, strip_cr) {
            Ok((hunk, next)) => {
                hunks.push(hunk);
                i = next;
            }
            Err(e) => return Err(in_file(e, &shown)),
        }
    }
    // GNU patch ignores body lines past a hunk's counts; that would silently
    // drop changes from a hand-edited patch, so they are an error here. A
    // mail signature (`-- `) and the next file's header are not body lines.
    if let (Some(h), Some(&next)) = (hunks.last(), lines.get(i)) {
        let t = trim_eol(next);
        let body_like = match next.first() {
            Some(b'+') | Some(b' ') => true,
            Some(b'-') => t != b"-- " && t != b"--" && !t.starts_with(b"--- "),
            _ => false,
        };
        if body_like {
            let e = too_long(i + 1, hunks.len(), &h.header, h.old_count, h.new_count);
            return Err(in_file(e, &shown));
        }
    }
    if hunks.is_empty() && git.is_none() {
        return Err(err(
            ParseErrorKind::Malformed,
            start + 3,
            "file header not followed by a `@@` hunk",
        ));
    }
    let (git, line) = match git {
        Some((g, l)) => (Some(g), l),
        None => (None, start + 1),
    };
    Ok((
        FilePatch {
            line,
            git,
            old: Some(old),
            new: Some(new),
            hunks,
        },
        i,
    ))
}

/// A hunk's error, saying which file's diff it is in.
fn in_file(mut e: ParseError, shown: &str) -> ParseError {
    e.message = format!("{} (in the diff of `{shown}`)", e.message);
    e
}

/// The error for body lines past a hunk's counts, at `line`.
fn too_long(line: usize, number: usize, header: &str, old: usize, new: usize) -> ParseError {
    err(
        ParseErrorKind::Malformed,
        line,
        format!("hunk #{number} (`{header}`) has more lines than its header says ({old} old, {new} new)"),
    )
}

/// Parses `-a,b +c,d` out of a `@@` line, or explains what is wrong with
/// it: the ranges are the first two words (between spaces) before the first
/// ` @@`, each a sign, a start and an optional `,count` (1 when left out).
///
/// One pass over bytes, no splitting: unoptimised, in a build script, this
/// runs once per hunk, where `str` splitting and closures cost thousands of
/// instructions a header.
fn hunk_range(header: &[u8], line: usize) -> Result<(usize, usize, usize, usize), ParseError> {
    let rest = &header[3..];
    let mut end = 0;
    while end + 3 <= rest.len()
        && !(rest[end] == b' ' && rest[end + 1] == b'@' && rest[end + 2] == b'@')
    {
        end += 1;
    }
    if end + 3 > rest.len() {
        return Err(bad_range(header, line, "no closing `@@`"));
    }
    let body = &rest[..end];
    if std::str::from_utf8(body).is_err() {
        return Err(bad_range(header, line, "not ASCII"));
    }
    let mut parts: [&[u8]; 2] = [b"", b""];
    let mut count = 0;
    let mut i = 0;
    while i < body.len() {
        if body[i] == b' ' {
            i += 1;
            continue;
        }
        let start = i;
        while i < body.len() && body[i] != b' ' {
            i += 1;
        }
        if count == 2 {
            return Err(bad_range(
                header,
                line,
                "unexpected text in the line ranges",
            ));
        }
        parts[count] = &body[start..i];
        count += 1;
    }
    // Old side (`-`), then new side (`+`): start, then count.
    let mut numbers = [0; 4];
    let mut k = 0;
    while k < 2 {
        let part = parts[k];
        if part.is_empty() || part[0] != if k == 0 { b'-' } else { b'+' } {
            return Err(bad_range(
                header,
                line,
                "expected `-start,count +start,count`",
            ));
        }
        let comma = find_byte(part, 1, b',');
        numbers[2 * k] = range_number(&part[1..comma.unwrap_or(part.len())], header, line)?;
        numbers[2 * k + 1] = match comma {
            Some(c) => range_number(&part[c + 1..], header, line)?,
            None => 1,
        };
        k += 1;
    }
    Ok((numbers[0], numbers[1], numbers[2], numbers[3]))
}

/// The error for a malformed hunk header.
fn bad_range(header: &[u8], line: usize, what: &str) -> ParseError {
    err(
        ParseErrorKind::Malformed,
        line,
        format!("malformed hunk header `{}`: {what}", lossy(header)),
    )
}

/// A start or count of a hunk header: decimal digits, far from overflow.
fn range_number(t: &[u8], header: &[u8], line: usize) -> Result<usize, ParseError> {
    let mut digits = !t.is_empty();
    for b in t {
        digits &= b.is_ascii_digit();
    }
    if !digits {
        return Err(bad_range(
            header,
            line,
            "line numbers must be decimal numbers",
        ));
    }
    // Keep line arithmetic far from overflow.
    const LIMIT: usize = (isize::MAX as usize) / 4;
    let mut value: usize = 0;
    for b in t {
        value = value
            .saturating_mul(10)
            .saturating_add(usize::from(b - b'0'));
    }
    if value > LIMIT {
        return Err(bad_range(header, line, "line number too large"));
    }
    Ok(value)
}

/// Parses one hunk. With `strip_cr`, a `\r` before each line's `\n` is
/// dropped (see [`parse_unified_file`]).
fn parse_hunk(
    lines: &[&[u8]],
    start: usize,
    number: usize,
    strip_cr: bool,
) -> Result<(Hunk, usize), ParseError> {
    let header = trim_eol(lines[start]);
    let (old_start, old_count, new_start, new_count) = hunk_range(header, start + 1)?;
    // The header's counts bound the body, the rest of the patch bounds them.
    let expected = old_count.saturating_add(new_count).min(lines.len() - start);
    let mut body: Vec<HunkLine> = Vec::with_capacity(expected);
    let (mut olds, mut news) = (0usize, 0usize);
    let mut i = start + 1;
    let shown = lossy(header);
    while olds < old_count || news < new_count {
        // Past the end of the patch, no line: the hunk is truncated.
        let line: &[u8] = if i < lines.len() { lines[i] } else { b"" };
        let (kind, text) = match line.first() {
            Some(b' ') => (LineKind::Context, &line[1..]),
            Some(b'-') => (LineKind::Delete, &line[1..]),
            Some(b'+') => (LineKind::Insert, &line[1..]),
            // An empty line stands for an empty context line: some mailers
            // and editors strip the trailing space.
            Some(b'\n') => (LineKind::Context, line),
            Some(b'\r') if line == b"\r\n" => (LineKind::Context, line),
            // A line starting with a tab is a context line whose leading
            // space was eaten (GNU patch reads it the same way).
            Some(b'\t') => (LineKind::Context, line),
            Some(b'\\') => {
                no_newline(&mut body, i)?;
                i += 1;
                continue;
            }
            _ => break,
        };
        match kind {
            LineKind::Context => {
                olds += 1;
                news += 1;
            }
            LineKind::Delete => olds += 1,
            LineKind::Insert => news += 1,
        }
        if olds > old_count || news > new_count {
            return Err(too_long(i + 1, number, &shown, old_count, new_count));
        }
        let text = if strip_cr && text.ends_with(b"\r\n") {
            let mut lf = text[..text.len() - 2].to_vec();
            lf.push(b'\n');
            lf
        } else {
            text.to_vec()
        };
        body.push(HunkLine { kind, text });
        i += 1;
    }
    if olds < old_count || news < new_count {
        return Err(err(
            ParseErrorKind::Malformed,
            i + 1,
            format!(
                "hunk #{number} (`{shown}`) is truncated: expected {old_count} old and {new_count} new lines, found {olds} and {news}"
            ),
        ));
    }
    if i < lines.len() && lines[i].starts_with(b"\\") {
        no_newline(&mut body, i)?;
        i += 1;
    }
    let mut changes_nothing = true;
    for l in &body {
        changes_nothing &= l.kind == LineKind::Context;
    }
    if changes_nothing {
        // GNU patch calls this malformed too; it changes nothing.
        return Err(err(
            ParseErrorKind::Malformed,
            start + 1,
            format!("hunk #{number} (`{shown}`) changes nothing"),
        ));
    }
    Ok((
        Hunk {
            line: start + 1,
            header: shown,
            old_start,
            old_count,
            new_start,
            new_count,
            lines: body,
        },
        i,
    ))
}

/// Handles `\ No newline at end of file`: the line before it has no
/// line terminator.
fn no_newline(body: &mut [HunkLine], i: usize) -> Result<(), ParseError> {
    match body.last_mut() {
        Some(last) if last.text.ends_with(b"\n") => {
            last.text.truncate(last.text.len() - 1);
            Ok(())
        }
        _ => Err(err(
            ParseErrorKind::Malformed,
            i + 1,
            "`\\ No newline at end of file` does not follow a hunk line",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Renders a parse result compactly: one line per file, one per hunk.
    fn render(p: &Patch) -> String {
        let mut s = String::new();
        for f in &p.files {
            let name = |n: &Option<HeaderName>| match n {
                None => "-".to_string(),
                Some(n) if n.dev_null => "/dev/null".to_string(),
                Some(n) => format!("{}{}", lossy(&n.raw), if n.epoch { "@epoch" } else { "" }),
            };
            s += &format!("file {} {}", name(&f.old), name(&f.new));
            if let Some(g) = &f.git {
                s += &format!(
                    " git[{} {}",
                    lossy(g.a.as_deref().unwrap_or(b"?")),
                    lossy(g.b.as_deref().unwrap_or(b"?"))
                );
                for (k, v) in [
                    ("old", g.old_mode),
                    ("new", g.new_mode),
                    ("newfile", g.new_file_mode),
                    ("deleted", g.deleted_file_mode),
                ] {
                    if let Some(v) = v {
                        s += &format!(" {k}={v:o}");
                    }
                }
                for (k, v) in [
                    ("rename", &g.rename_from),
                    ("to", &g.rename_to),
                    ("copy", &g.copy_from),
                    ("to", &g.copy_to),
                ] {
                    if let Some(v) = v {
                        s += &format!(" {k}={}", lossy(v));
                    }
                }
                s += "]";
            }
            s += "\n";
            for h in &f.hunks {
                s += &format!(
                    "  hunk -{},{} +{},{}:",
                    h.old_start, h.old_count, h.new_start, h.new_count
                );
                for l in &h.lines {
                    let c = match l.kind {
                        LineKind::Context => ' ',
                        LineKind::Delete => '-',
                        LineKind::Insert => '+',
                    };
                    s += &format!(" {c}{:?}", lossy(&l.text));
                }
                s += "\n";
            }
        }
        s
    }

    fn check(input: &str, expected: &str) {
        let got = match parse(input.as_bytes()) {
            Ok(p) => render(&p),
            Err(e) => format!("error {:?} at {}: {}\n", e.kind, e.line, e.message),
        };
        assert_eq!(got.trim_end(), expected.trim_end(), "input:\n{input}");
    }

    #[test]
    fn plain_unified() {
        check(
            "--- a/x\t2020-01-01 00:00:00.000000000 +0000\n+++ b/x\t2020-01-02 00:00:00.000000000 +0000\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n",
            "file a/x b/x\n  hunk -1,2 +1,2:  \"a\\n\" -\"b\\n\" +\"c\\n\"",
        );
    }

    #[test]
    fn omitted_counts_mean_one() {
        check(
            "--- a/x\n+++ b/x\n@@ -5 +5 @@\n-b\n+c\n",
            "file a/x b/x\n  hunk -5,1 +5,1: -\"b\\n\" +\"c\\n\"",
        );
    }

    #[test]
    fn no_newline_marker() {
        check(
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n\\ No newline at end of file\n+c\n",
            "file a/x b/x\n  hunk -1,1 +1,1: -\"b\" +\"c\\n\"",
        );
        check(
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-b\n+c\n\\ No newline at end of file\n",
            "file a/x b/x\n  hunk -1,1 +1,1: -\"b\\n\" +\"c\"",
        );
    }

    #[test]
    fn dev_null_and_epoch() {
        check(
            "--- /dev/null\n+++ b/new\n@@ -0,0 +1 @@\n+n\n",
            "file /dev/null b/new\n  hunk -0,0 +1,1: +\"n\\n\"",
        );
        check(
            "--- a/old\t1970-01-01 00:00:00.000000000 +0000\n+++ b/old\t2020-01-01 00:00:00.000000000 +0000\n@@ -0,0 +1 @@\n+n\n",
            "file a/old@epoch b/old\n  hunk -0,0 +1,1: +\"n\\n\"",
        );
    }

    #[test]
    fn epoch_timestamps() {
        for (ts, epoch) in [
            ("1970-01-01 00:00:00.000000000 +0000", true),
            ("1970-01-01 00:00:00", true),
            ("1970-01-01 01:00:00.000000000 +0100", true),
            ("1969-12-31 19:00:00.000000000 -0500", true),
            ("1969-12-31 19:00:00 +0000", false),
            ("1970-01-01 00:00:01 +0000", false),
            ("Thu Jan  1 00:00:00 1970", true),
            ("2020-01-01 00:00:00 +0000", false),
            ("", false),
            ("1970-01-01", false),
            ("1970-01-01 00:00:00 +01", false),
        ] {
            assert_eq!(is_epoch(ts.as_bytes()), epoch, "{ts}");
        }
    }

    #[test]
    fn git_headers() {
        check(
            "diff --git a/x b/x\nold mode 100644\nnew mode 100755\n",
            "file - - git[a/x b/x old=100644 new=100755]",
        );
        check(
            "diff --git a/o b/n\nsimilarity index 90%\nrename from o\nrename to n\n--- a/o\n+++ b/n\n@@ -1 +1 @@\n-a\n+b\n",
            "file a/o b/n git[a/o b/n rename=o to=n]\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"",
        );
        check(
            "diff --git a/new b/new\nnew file mode 100755\nindex 0000000..e69de29\n",
            "file - - git[a/new b/new newfile=100755]",
        );
        check(
            "diff --git \"a/x\\tb\" \"b/x\\tb\"\nindex 1..2 100644\n--- \"a/x\\tb\"\n+++ \"b/x\\tb\"\n@@ -1 +1 @@\n-a\n+b\n",
            "file a/x\tb b/x\tb git[a/x\tb b/x\tb]\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"",
        );
        check(
            "diff --git a/with space b/with space\nnew file mode 100644\n",
            "file - - git[a/with space b/with space newfile=100644]",
        );
    }

    #[test]
    fn refusals() {
        check(
            "",
            "error NotAPatch at 0: not a patch: no `---`/`+++` or `diff --git` header found",
        );
        check(
            "hello\nworld\n",
            "error NotAPatch at 0: not a patch: no `---`/`+++` or `diff --git` header found",
        );
        check("5c5\n< a\n---\n> b\n", "error Unsupported at 1: unsupported format: this looks like a normal diff (`diff` without `-u`); only unified diffs are supported, regenerate it with `diff -u` or `git diff`");
        check("5c\nfoo\n.\n", "error Unsupported at 1: unsupported format: this looks like an ed script; only unified diffs are supported, regenerate it with `diff -u` or `git diff`");
        check("*** a/x\n--- b/x\n***************\n*** 1 ****\n", "error Unsupported at 1: unsupported format: this is a context diff (`***`/`---`); only unified diffs are supported, regenerate it with `diff -u` or `git diff`");
        check("diff --git a/l b/l\nnew file mode 120000\n", "error Unsupported at 2: unsupported: symbolic links (mode 120000) are never created or changed by build-patch");
        check(
            "diff --git a/l b/l\nindex 1..2 160000\n",
            "error Unsupported at 2: unsupported: git submodules (mode 160000) cannot be patched",
        );
        check("diff --git a/b b/b\nindex 1..2\nGIT binary patch\nliteral 0\n", "error Unsupported at 3: unsupported: binary patch (`GIT binary patch`); build-patch applies text diffs only");
        check("diff --git a/b b/b\nindex 1..2\nBinary files a/b and b/b differ\n", "error Unsupported at 3: unsupported: binary patch (`GIT binary patch`); build-patch applies text diffs only");
        check("diff --git a/o b/n\nrename from o\n", "error Malformed at 1: rename header names only one side (`rename from` and `rename to` must both be present)");
    }

    #[test]
    fn normal_diff_next_to_a_unified_one() {
        check(
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n3c3\n< c\n---\n> d\n",
            "error Unsupported at 6: unsupported format: this looks like a normal diff (`diff` without `-u`); only unified diffs are supported, regenerate it with `diff -u` or `git diff`",
        );
        // A description line that merely looks like a command is text.
        check(
            "Fixes 3c3.\n1a2\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
            "file a/x b/x\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"",
        );
    }

    #[test]
    fn malformed_hunks() {
        check("--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n-b\n", "error Malformed at 6: hunk #1 (`@@ -1,3 +1,3 @@`) is truncated: expected 3 old and 3 new lines, found 2 and 1 (in the diff of `b/x`)");
        check("--- a/x\n+++ b/x\n@@ -1,2 +1,1 @@\n a\n b\n", "error Malformed at 5: hunk #1 (`@@ -1,2 +1,1 @@`) has more lines than its header says (2 old, 1 new) (in the diff of `b/x`)");
        // Body lines past a hunk's counts (GNU patch ignores them).
        check("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n b\n", "error Malformed at 6: hunk #1 (`@@ -1 +1 @@`) has more lines than its header says (1 old, 1 new) (in the diff of `b/x`)");
        check("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n+c\n", "error Malformed at 6: hunk #1 (`@@ -1 +1 @@`) has more lines than its header says (1 old, 1 new) (in the diff of `b/x`)");
        // Text that is not a body line ends the file's diff.
        check(
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\nother text\n",
            "file a/x b/x\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"",
        );
        check("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\ntext\n@@ -5 +5 @@\n-a\n+b\n", "error Malformed at 7: hunk header `@@ -5 +5 @@` does not follow a file header (`---`/`+++` or `diff --git`)");
        check("--- a/x\n+++ b/x\n@@ -99999999999999999999999,1 +1 @@\n-a\n", "error Malformed at 3: malformed hunk header `@@ -99999999999999999999999,1 +1 @@`: line number too large (in the diff of `b/x`)");
        check("--- a/x\n+++ b/x\n@@ -1,x +1 @@\n-a\n", "error Malformed at 3: malformed hunk header `@@ -1,x +1 @@`: line numbers must be decimal numbers (in the diff of `b/x`)");
        check(
            "--- a/x\n+++ b/x\nnot a hunk\n",
            "error Malformed at 3: file header not followed by a `@@` hunk",
        );
        check(
            "--- a/x\n+++ b/x\n@@ -1 +1\n",
            "error Malformed at 3: malformed hunk header `@@ -1 +1`: no closing `@@` (in the diff of `b/x`)",
        );
        check(
            "--- a/x\n+++ b/x\n@@ -1,2 +1,2 @@\n a\n b\n",
            "error Malformed at 3: hunk #1 (`@@ -1,2 +1,2 @@`) changes nothing (in the diff of `b/x`)",
        );
    }

    #[test]
    fn mail_with_description_and_signature() {
        check(
            "From 123 Mon Sep 17 00:00:00 2001\nFrom: A <a@b>\nSubject: [PATCH] fix\n\nBody text\n---\n x | 2 +-\n 1 file changed\n\ndiff --git a/x b/x\nindex 1..2 100644\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n-- \n2.39.0\n\n",
            "file a/x b/x git[a/x b/x]\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"",
        );
    }

    #[test]
    fn quilt_index_and_several_files() {
        check(
            "Description: thing\nAuthor: me\n\nIndex: pkg/a\n===================================================================\n--- pkg.orig/a\n+++ pkg/a\n@@ -1 +1 @@\n-a\n+b\nIndex: pkg/b\n--- pkg.orig/b\n+++ pkg/b\n@@ -2,0 +3 @@\n+c\n",
            "file pkg.orig/a pkg/a\n  hunk -1,1 +1,1: -\"a\\n\" +\"b\\n\"\nfile pkg.orig/b pkg/b\n  hunk -2,0 +3,1: +\"c\\n\"",
        );
    }

    #[test]
    fn eaten_leading_space() {
        check(
            "--- a/x\n+++ b/x\n@@ -1,3 +1,3 @@\n a\n\n-x\n+y\n-b\n",
            "error Malformed at 8: hunk #1 (`@@ -1,3 +1,3 @@`) has more lines than its header says (3 old, 3 new) (in the diff of `b/x`)",
        );
        check(
            "--- a/x\n+++ b/x\n@@ -1,4 +1,4 @@\n a\n\n\tt\n-b\n+c\n",
            "file a/x b/x\n  hunk -1,4 +1,4:  \"a\\n\"  \"\\n\"  \"\\tt\\n\" -\"b\\n\" +\"c\\n\"",
        );
    }

    #[test]
    fn crlf_patch_files_lose_their_cr() {
        let p = parse(
            b"--- a/x\r\n+++ b/x\r\n@@ -1,2 +1 @@\r\n a\r\n-b\r\n\\ No newline at end of file\r\n",
        )
        .unwrap();
        let h = &p.files[0].hunks[0];
        assert_eq!(h.lines[0].text, b"a\n");
        assert_eq!(h.lines[1].text, b"b");
        // Only the `+++` line decides, as for GNU patch.
        let p = parse(b"--- a/x\r\n+++ b/x\n@@ -1 +1 @@\n-a\r\n+b\r\n").unwrap();
        assert_eq!(p.files[0].hunks[0].lines[0].text, b"a\r\n");
    }

    #[test]
    fn crlf_and_non_utf8_are_kept() {
        let p = parse(b"--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\r\n+\xff\r\n").unwrap();
        assert_eq!(p.files[0].hunks[0].lines[0].text, b"a\r\n");
        assert_eq!(p.files[0].hunks[0].lines[1].text, b"\xff\r\n");
    }

    #[test]
    fn hunk_headers() {
        for (header, expected) in [
            ("@@ -1,2 +3,4 @@", "1 2 3 4"),
            ("@@ -5 +6 @@ fn f()", "5 1 6 1"),
            ("@@ -07,0  +1 @@@", "7 0 1 1"),
            (
                "@@ -0,0 +1,999999999999999999 @@",
                "0 0 1 999999999999999999",
            ),
            (
                "@@ -1 +1 @",
                "malformed hunk header `@@ -1 +1 @`: no closing `@@`",
            ),
            (
                "@@ -1 +1 x @@",
                "malformed hunk header `@@ -1 +1 x @@`: unexpected text in the line ranges",
            ),
            (
                "@@ -1 @@",
                "malformed hunk header `@@ -1 @@`: expected `-start,count +start,count`",
            ),
            (
                "@@ +1 -1 @@",
                "malformed hunk header `@@ +1 -1 @@`: expected `-start,count +start,count`",
            ),
            (
                "@@ -1, +1 @@",
                "malformed hunk header `@@ -1, +1 @@`: line numbers must be decimal numbers",
            ),
            (
                "@@ -1,2,3 +1 @@",
                "malformed hunk header `@@ -1,2,3 +1 @@`: line numbers must be decimal numbers",
            ),
            (
                "@@ -2305843009213693952 +1 @@",
                "malformed hunk header `@@ -2305843009213693952 +1 @@`: line number too large",
            ),
        ] {
            let got = match hunk_range(header.as_bytes(), 1) {
                Ok((a, b, c, d)) => format!("{a} {b} {c} {d}"),
                Err(e) => e.message,
            };
            assert_eq!(got, expected, "{header}");
        }
    }

    #[test]
    fn unquote_escapes() {
        assert_eq!(
            unquote(b"\"a\\tb\\\\c\\\"d\\303\\251\"").unwrap().0,
            "a\tb\\c\"dé".as_bytes()
        );
        assert_eq!(unquote(b"\"abc"), None);
        assert_eq!(unquote(b"\"a\\q\""), None);
    }

    #[test]
    fn classic_commands() {
        let ed = Some("an ed script");
        let normal = Some("a normal diff (`diff` without `-u`)");
        for (line, kind) in [
            (&b"5c5"[..], normal),
            (b"3,4d2", normal),
            (b"3,4a2,7", normal),
            (b"5c", ed),
            (b"3,4d", ed),
            (b"3,d2", None),
            (b"3d2,", None),
            (b"1,2,3d4", None),
            (b"3d2x", None),
            (b"d2", None),
            (b"", None),
            (b"12", None),
        ] {
            assert_eq!(
                classic_command(line),
                kind,
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
