//! Applying hunks to the bytes of one file, the way GNU patch places them.
//!
//! Placement follows GNU patch's `locate_hunk`: the first guess is the line
//! the hunk names plus the offset earlier hunks of the same file were found
//! at; the search goes outward from there, trying each distance after the
//! guess before the same distance before it, and does not search back past
//! the last line the previous hunk consumed (GNU patch 2.7.6's bound); a hunk
//! whose changes would still come before that fails ("misordered"). A hunk
//! with less leading than trailing context must sit at the start of the file,
//! and one with less trailing context at the end, because `diff` only produces
//! such hunks at the file's edges. With fuzz N, up to N context lines at each
//! end are ignored, every position being tried at fuzz 0 before any at fuzz 1;
//! a file's first hunk that matches reversed is not fuzzed into place.
//!
//! All hunks of a file are matched against the file as it was before the
//! patch (as GNU patch does), and the output is assembled as they are placed.
//!
//! Work is bounded: candidate positions are filtered by the hash of their
//! first line and a rolling hash of the window, so a search costs time
//! proportional to the file, and a budget per call stops pathological patches.

use super::parse::{Hunk, LineKind};

/// Where a hunk was applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Placement {
    /// 1-based line of the old file where the hunk's first line was found.
    pub(crate) line: usize,
    /// Lines between where the hunk said it was and where it was found,
    /// after allowing for the offset of earlier hunks.
    pub(crate) offset: isize,
    /// Context lines ignored at each end to make it match.
    pub(crate) fuzz: usize,
}

/// The closest lines found for a hunk that did not match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Closest {
    /// 1-based line of the old file where the closest match starts.
    pub(crate) line: usize,
    /// The file's lines there, each with whether it differs from the hunk.
    pub(crate) lines: Vec<(Vec<u8>, bool)>,
    pub(crate) differing: usize,
}

/// Why a hunk could not be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No position matched. `expected_line` is where the hunk was looked for
    /// first (1-based), `expected` the old lines it needed.
    NoMatch {
        hunk: usize,
        expected_line: usize,
        expected: Vec<Vec<u8>>,
        closest: Option<Closest>,
        /// The hunk's lines end in CRLF and the file's in LF, or the reverse.
        line_endings_differ: bool,
        /// The fuzz (at most [`MAX_SUGGESTED_FUZZ`]) and line at which the
        /// hunk would have been placed, had that fuzz been allowed.
        fits_with: Option<(usize, usize)>,
    },
    /// The file's first hunk did not match, but matches reversed: the change
    /// seems already made. GNU patch checks this before trying more fuzz, so
    /// such a hunk is never fuzzed into place.
    Reversed { hunk: usize, line: usize },
    /// The hunk matched only at a place before an earlier hunk's changes.
    Misordered { hunk: usize, line: usize },
    /// The work budget ran out.
    TooExpensive { hunk: usize },
}

/// The most fuzz an error message suggests (GNU patch's default).
pub(crate) const MAX_SUGGESTED_FUZZ: usize = 2;

/// How much matching work one call of `apply_to_dir` may do, in units of
/// about one first-line probe (a few nanoseconds); far above anything a real
/// patch series needs (every Debian corpus series applies within it).
pub(crate) const WORK_BUDGET: u64 = 200_000_000;

/// Work units charged for comparing a whole window by its rolling hash.
const WINDOW_COST: u64 = 10;

/// A hunk seen from one direction (forward, or reversed to test whether a
/// patch is already applied).
struct View<'h> {
    /// GNU's `pch_first`: the first old line, or the line to insert before.
    first: isize,
    pattern: Vec<&'h [u8]>,
    /// `line_hash` of each pattern line.
    pattern_hashes: Vec<u64>,
    ops: Vec<(LineKind, &'h [u8])>,
    prefix: usize,
    suffix: usize,
}

fn view(h: &Hunk, reverse: bool) -> View<'_> {
    let (start, count) = if reverse {
        (h.new_start, h.new_count)
    } else {
        (h.old_start, h.old_count)
    };
    let ops: Vec<(LineKind, &[u8])> = h
        .lines
        .iter()
        .map(|l| {
            let kind = match (l.kind, reverse) {
                (LineKind::Delete, true) => LineKind::Insert,
                (LineKind::Insert, true) => LineKind::Delete,
                (k, _) => k,
            };
            (kind, l.text.as_slice())
        })
        .collect();
    let pattern: Vec<&[u8]> = ops
        .iter()
        .filter(|(k, _)| *k != LineKind::Insert)
        .map(|(_, t)| *t)
        .collect();
    // Leading and trailing context, counted on the old side.
    let first_change = ops.iter().position(|(k, _)| *k != LineKind::Context);
    let (prefix, suffix) = match first_change {
        None => (pattern.len(), pattern.len()),
        Some(f) => {
            let last = ops
                .iter()
                .rposition(|(k, _)| *k != LineKind::Context)
                .unwrap_or(f);
            (f, ops.len() - 1 - last)
        }
    };
    // A hunk that removes nothing inserts before the line after `start`.
    let first = if count == 0 { start + 1 } else { start };
    let pattern_hashes = pattern.iter().map(|l| line_hash(l)).collect();
    View {
        first: first as isize,
        pattern,
        pattern_hashes,
        ops,
        prefix,
        suffix,
    }
}

const HASH_MOD: u64 = (1 << 61) - 1;
const HASH_BASE: u64 = 1_000_003;

fn mulmod(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(HASH_MOD)) as u64
}

fn line_hash(line: &[u8]) -> u64 {
    // FNV-1a, reduced into the field of the rolling hash.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in line {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h % HASH_MOD
}

/// The old file, split into lines, with prefix hashes so that any run of
/// lines can be compared with a hunk in constant time.
pub(crate) struct Text<'a> {
    lines: Vec<&'a [u8]>,
    hashes: Vec<u64>,
    prefix: Vec<u64>,
    powers: Vec<u64>,
}

impl<'a> Text<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Text<'a> {
        let lines = super::parse::split_lines(bytes);
        let hashes: Vec<u64> = lines.iter().map(|l| line_hash(l)).collect();
        let mut prefix = Vec::with_capacity(lines.len() + 1);
        let mut powers = Vec::with_capacity(lines.len() + 1);
        prefix.push(0);
        powers.push(1);
        for (i, &h) in hashes.iter().enumerate() {
            prefix.push((mulmod(prefix[i], HASH_BASE) + h + 1) % HASH_MOD);
            powers.push(mulmod(powers[i], HASH_BASE));
        }
        Text {
            lines,
            hashes,
            prefix,
            powers,
        }
    }

    /// Hash of lines `[from, to)` (0-based).
    fn window(&self, from: usize, to: usize) -> u64 {
        let sub = mulmod(self.prefix[from], self.powers[to - from]);
        (self.prefix[to] + HASH_MOD - sub) % HASH_MOD
    }

    fn len(&self) -> usize {
        self.lines.len()
    }
}

fn seq_hash(lines: &[&[u8]]) -> u64 {
    lines.iter().fold(0, |acc, l| {
        (mulmod(acc, HASH_BASE) + line_hash(l) + 1) % HASH_MOD
    })
}

/// Matching state for one file: GNU's `in_offset` and `last_frozen_line`.
struct Matcher<'t, 'a> {
    text: &'t Text<'a>,
    in_offset: isize,
    frozen: isize,
    budget: &'t mut u64,
}

impl Matcher<'_, '_> {
    /// Whether the pattern, without `pf` leading and `sf` trailing lines,
    /// matches at 1-based line `at` (where the pattern's first line would be).
    fn matches(
        &mut self,
        v: &View<'_>,
        pattern_hash: u64,
        at: isize,
        pf: usize,
        sf: usize,
    ) -> bool {
        *self.budget = self.budget.saturating_sub(1);
        let n = self.text.len() as isize;
        let Some(k) = v.pattern.len().checked_sub(pf + sf) else {
            return false;
        };
        let from = at - 1 + pf as isize;
        if from < 0 || from + k as isize > n {
            return false;
        }
        let from = from as usize;
        if k == 0 {
            return true;
        }
        // Cheapest test first: the first line's hash, then the whole
        // window's (which costs more, and is charged so).
        if self.text.hashes[from] != v.pattern_hashes[pf] {
            return false;
        }
        *self.budget = self.budget.saturating_sub(WINDOW_COST);
        if self.text.window(from, from + k) != pattern_hash {
            return false;
        }
        *self.budget = self.budget.saturating_sub(k as u64);
        v.pattern[pf..pf + k]
            .iter()
            .zip(&self.text.lines[from..from + k])
            .all(|(p, l)| p == l)
    }

    /// GNU patch's `locate_hunk` at one fuzz level: the 1-based line where
    /// the hunk goes, or `None`.
    fn locate(&mut self, v: &View<'_>, fuzz: usize) -> Option<isize> {
        let n = self.text.len() as isize;
        let first_guess = v.first + self.in_offset;
        let pat = v.pattern.len() as isize;
        let (prefix, suffix) = (v.prefix as isize, v.suffix as isize);
        let context = prefix.max(suffix);
        let mut prefix_fuzz = fuzz as isize + prefix - context;
        let suffix_fuzz = fuzz as isize + suffix - context;
        let max_where = n - (pat - suffix_fuzz) + 1;
        // GNU patch 2.7.6: nothing at or before the last line consumed by
        // the previous hunk. (Later versions subtract the unfuzzed leading
        // context here; 2.7.6 reaches such overlaps only through the
        // `min_offset` start below.)
        let min_where = self.frozen + 1;
        let max_pos = max_where - first_guess;
        let mut max_neg = first_guess - min_where;
        let max_offset = max_pos.max(max_neg);
        if pat == 0 {
            return Some(first_guess);
        }
        if first_guess <= max_neg {
            max_neg = first_guess - 1;
        }
        let hash_for = |pf: isize, sf: isize| {
            let (pf, sf) = (pf.max(0) as usize, sf.max(0) as usize);
            if pf + sf > v.pattern.len() {
                return (pf, sf, 0);
            }
            (pf, sf, seq_hash(&v.pattern[pf..v.pattern.len() - sf]))
        };
        if prefix_fuzz < 0 && v.first <= 1 {
            // Can only match at the start of the file.
            if suffix_fuzz < 0 && (pat != n || prefix < self.frozen) {
                return None;
            }
            let offset = 1 - first_guess;
            let (pf, sf, h) = hash_for(0, suffix_fuzz);
            if self.frozen <= prefix && offset <= max_pos && self.matches(v, h, 1, pf, sf) {
                self.in_offset += offset;
                return Some(1);
            }
            return None;
        } else if prefix_fuzz < 0 {
            prefix_fuzz = 0;
        }
        if suffix_fuzz < 0 {
            // Can only match at the end of the file.
            let offset = first_guess - (n - pat + 1);
            let (pf, sf, h) = hash_for(prefix_fuzz, 0);
            if offset <= max_neg && self.matches(v, h, first_guess - offset, pf, sf) {
                self.in_offset -= offset;
                return Some(first_guess - offset);
            }
            return None;
        }
        let (pf, sf, h) = hash_for(prefix_fuzz, suffix_fuzz);
        let min_offset = if max_pos < 0 {
            first_guess - max_where
        } else if max_neg < 0 {
            first_guess - min_where
        } else {
            0
        };
        let mut offset = min_offset;
        while offset <= max_offset {
            if *self.budget == 0 {
                return None;
            }
            if offset <= max_pos && self.matches(v, h, first_guess + offset, pf, sf) {
                self.in_offset += offset;
                return Some(first_guess + offset);
            }
            if offset <= max_neg && self.matches(v, h, first_guess - offset, pf, sf) {
                self.in_offset -= offset;
                return Some(first_guess - offset);
            }
            offset += 1;
        }
        None
    }
}

/// Output under construction, with GNU's rule that a line appended after a
/// line without a terminator first gets a `\n`.
struct Out {
    bytes: Vec<u8>,
}

impl Out {
    fn push(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if self.bytes.last().is_some_and(|&b| b != b'\n') {
            self.bytes.push(b'\n');
        }
        self.bytes.extend_from_slice(line);
    }
}

/// Copies old lines through 1-based line `till`; false if `till` is
/// before what is already consumed (GNU's "misordered hunks").
fn copy_till(text: &Text<'_>, out: &mut Out, frozen: &mut isize, till: isize) -> bool {
    if *frozen > till {
        return false;
    }
    // Lines past the end of the file copy nothing; skip them in one step so
    // that a hunk claiming a huge line number costs nothing.
    let last = till.min(text.len() as isize);
    while *frozen < last {
        *frozen += 1;
        out.push(text.lines[(*frozen - 1) as usize]);
    }
    *frozen = till;
    true
}

/// Applies `hunks` to `old`, returning the new bytes and where each hunk went.
///
/// With `reverse`, the hunks are applied backwards (to test whether a patch
/// is already applied). `max_fuzz` is the most context lines ignored.
pub(crate) fn apply_hunks(
    old: &[u8],
    hunks: &[Hunk],
    reverse: bool,
    max_fuzz: usize,
    budget: &mut u64,
) -> Result<(Vec<u8>, Vec<Placement>), Failure> {
    let text = Text::new(old);
    let mut out = Out {
        bytes: Vec::with_capacity(old.len()),
    };
    let mut placements = Vec::with_capacity(hunks.len());
    let mut m = Matcher {
        text: &text,
        in_offset: 0,
        frozen: 0,
        budget,
    };
    for (index, hunk) in hunks.iter().enumerate() {
        let v = view(hunk, reverse);
        let fuzz_limit = max_fuzz.min(v.prefix.max(v.suffix));
        let guess = v.first + m.in_offset;
        let mut found = None;
        for fuzz in 0..=fuzz_limit {
            if let Some(at) = m.locate(&v, fuzz) {
                found = Some((at, fuzz));
                break;
            }
            // As GNU patch: when a file's first hunk fails at this fuzz, try
            // it reversed at the same fuzz before going on. (A reversed hunk
            // that needs no lines would match anywhere and proves nothing.)
            if index == 0 && !reverse {
                let back = view(hunk, true);
                if !back.pattern.is_empty() {
                    let mut probe = Matcher {
                        text: &text,
                        in_offset: 0,
                        frozen: 0,
                        budget: &mut *m.budget,
                    };
                    if let Some(at) = probe.locate(&back, fuzz) {
                        return Err(Failure::Reversed {
                            hunk: index,
                            line: at.max(1) as usize,
                        });
                    }
                }
            }
        }
        if *m.budget == 0 {
            return Err(Failure::TooExpensive { hunk: index });
        }
        let Some((at, fuzz)) = found else {
            // Would a little more fuzz have placed it? Worth saying in the
            // error; probed on a copy of the state, nothing is applied.
            let mut fits_with = None;
            for more in fuzz_limit + 1..=MAX_SUGGESTED_FUZZ.min(v.prefix.max(v.suffix)) {
                let mut probe = Matcher {
                    text: &text,
                    in_offset: m.in_offset,
                    frozen: m.frozen,
                    budget: &mut *m.budget,
                };
                if let Some(at) = probe.locate(&v, more) {
                    fits_with = Some((more, at.max(1) as usize));
                    break;
                }
            }
            let mut failure = no_match(&text, &v, index, guess, m.budget);
            if let Failure::NoMatch { fits_with: f, .. } = &mut failure {
                *f = fits_with;
            }
            return Err(failure);
        };
        placements.push(Placement {
            line: at.max(0) as usize,
            offset: at - guess,
            fuzz,
        });
        // Replay the hunk: context lines are copied from the file, so fuzzed
        // context keeps the file's text, as with GNU patch.
        let mut old_idx: isize = 0;
        for (kind, line) in &v.ops {
            match kind {
                LineKind::Context => old_idx += 1,
                LineKind::Delete => {
                    if !copy_till(&text, &mut out, &mut m.frozen, at + old_idx - 1) {
                        return Err(Failure::Misordered {
                            hunk: index,
                            line: at.max(0) as usize,
                        });
                    }
                    m.frozen += 1;
                    old_idx += 1;
                }
                LineKind::Insert => {
                    if !copy_till(&text, &mut out, &mut m.frozen, at + old_idx - 1) {
                        return Err(Failure::Misordered {
                            hunk: index,
                            line: at.max(0) as usize,
                        });
                    }
                    out.push(line);
                }
            }
        }
    }
    let n = text.len() as isize;
    if m.frozen < n {
        copy_till(&text, &mut out, &mut m.frozen, n);
    }
    Ok((out.bytes, placements))
}

/// Builds the failure report for a hunk, with the closest lines found.
fn no_match(text: &Text<'_>, v: &View<'_>, hunk: usize, guess: isize, budget: &mut u64) -> Failure {
    let expected_line = guess.max(1) as usize;
    let closest = closest_match(text, &v.pattern, expected_line, budget);
    let crlf = |l: &[u8]| l.ends_with(b"\r\n");
    let line_endings_differ = match (v.pattern.first(), text.lines.first()) {
        (Some(p), Some(t)) if p.ends_with(b"\n") && t.ends_with(b"\n") => crlf(p) != crlf(t),
        _ => false,
    };
    Failure::NoMatch {
        hunk,
        expected_line,
        expected: v.pattern.iter().map(|l| l.to_vec()).collect(),
        closest,
        line_endings_differ,
        fits_with: None,
    }
}

/// Finds the position where the most lines of `pattern` agree with the file,
/// nearest to `expected` on ties. Lines that occur many times in the pattern
/// (blank lines, braces) are not counted, which keeps the work to a few
/// probes per line of the file.
pub(crate) fn closest_match(
    text: &Text<'_>,
    pattern: &[&[u8]],
    expected: usize,
    budget: &mut u64,
) -> Option<Closest> {
    const MAX_REPEATS: usize = 4;
    let n = text.len();
    let k = pattern.len();
    if k == 0 || n == 0 {
        return None;
    }
    let mut by_hash: std::collections::HashMap<u64, Vec<usize>> = std::collections::HashMap::new();
    for (i, l) in pattern.iter().enumerate() {
        by_hash.entry(line_hash(l)).or_default().push(i);
    }
    // votes[s] counts pattern lines agreeing when the pattern starts at
    // 0-based file line s - (k - 1) (shifted to stay non-negative).
    let mut votes = vec![0u32; n + k];
    for (j, h) in text.hashes.iter().enumerate() {
        if let Some(idx) = by_hash.get(h) {
            if idx.len() > MAX_REPEATS {
                continue;
            }
            *budget = budget.saturating_sub(idx.len() as u64);
            for &i in idx {
                if pattern[i] == text.lines[j] {
                    votes[j + k - 1 - i] += 1;
                }
            }
        }
    }
    let target = (expected as isize - 1) + (k as isize - 1);
    let best = votes
        .iter()
        .enumerate()
        .filter(|(_, &v)| v > 0)
        .max_by_key(|(s, &v)| (v, std::cmp::Reverse((*s as isize - target).unsigned_abs())))?
        .0;
    // Clamp the window to the file and report it line by line.
    let start = (best as isize - (k as isize - 1)).clamp(0, n.saturating_sub(k) as isize) as usize;
    let mut lines = Vec::new();
    let mut differing = 0;
    for (i, want) in pattern.iter().enumerate() {
        match text.lines.get(start + i) {
            Some(l) => {
                let differs = l != want;
                differing += usize::from(differs);
                lines.push((l.to_vec(), differs));
            }
            None => differing += 1,
        }
    }
    Some(Closest {
        line: start + 1,
        lines,
        differing,
    })
}

#[cfg(test)]
mod tests {
    use super::super::parse::parse;
    use super::*;

    /// Applies the hunks of a one-file patch to `old` and renders the outcome:
    /// the new text, then one `hunk #N at L offset O fuzz F` line per hunk;
    /// or the failure.
    fn run(old: &str, patch: &str, fuzz: usize, reverse: bool) -> String {
        let p = parse(patch.as_bytes()).expect("test patch parses");
        let mut budget = WORK_BUDGET;
        match apply_hunks(
            old.as_bytes(),
            &p.files[0].hunks,
            reverse,
            fuzz,
            &mut budget,
        ) {
            Ok((new, places)) => {
                let mut s = String::from_utf8(new).unwrap();
                for (i, pl) in places.iter().enumerate() {
                    s += &format!(
                        "#{} at {} offset {} fuzz {}\n",
                        i + 1,
                        pl.line,
                        pl.offset,
                        pl.fuzz
                    );
                }
                s
            }
            Err(Failure::NoMatch {
                hunk,
                expected_line,
                closest,
                ..
            }) => {
                format!(
                    "hunk #{} failed, expected at {expected_line}, closest {:?}\n",
                    hunk + 1,
                    closest.map(|c| (c.line, c.differing))
                )
            }
            Err(e) => format!("{e:?}\n"),
        }
    }

    fn check(old: &str, patch: &str, expected: &str) {
        assert_eq!(run(old, patch, 0, false), expected, "patch:\n{patch}");
    }

    fn lines(n: usize) -> String {
        (1..=n).map(|i| format!("{i}\n")).collect()
    }

    const P_2_4: &str = "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n";

    #[test]
    fn exact_place() {
        check(
            &lines(5),
            P_2_4,
            "1\n2\nthree\n4\n5\n#1 at 2 offset 0 fuzz 0\n",
        );
    }

    #[test]
    fn offset_forward_and_back() {
        check(
            &("x\nx\n".to_string() + &lines(5)),
            P_2_4,
            "x\nx\n1\n2\nthree\n4\n5\n#1 at 4 offset 2 fuzz 0\n",
        );
        let shorter: String = lines(5).lines().skip(1).map(|l| format!("{l}\n")).collect();
        check(
            &shorter,
            P_2_4,
            "2\nthree\n4\n5\n#1 at 1 offset -1 fuzz 0\n",
        );
    }

    #[test]
    fn nearest_of_repeated_blocks_wins() {
        // The block `a b c` occurs at lines 1 and 9; the hunk says line 6:
        // distance 3 forward beats distance 5 back.
        let old = "a\nb\nc\n4\n5\n6\n7\n8\na\nb\nc\n";
        let p = "--- a/f\n+++ b/f\n@@ -6,3 +6,3 @@\n a\n-b\n+B\n c\n";
        check(
            old,
            p,
            "a\nb\nc\n4\n5\n6\n7\n8\na\nB\nc\n#1 at 9 offset 3 fuzz 0\n",
        );
        // At equal distance, after the guess wins.
        let old = "a\nb\nc\n4\n5\na\nb\nc\n";
        let p = "--- a/f\n+++ b/f\n@@ -4,3 +4,3 @@\n a\n-b\n+B\n c\n";
        check(old, p, "a\nb\nc\n4\n5\na\nB\nc\n#1 at 6 offset 2 fuzz 0\n");
    }

    #[test]
    fn later_hunks_use_earlier_offset() {
        let old = "x\n".to_string() + &lines(20);
        let p = "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n-3\n+three\n 4\n@@ -15,3 +15,3 @@\n 15\n-16\n+sixteen\n 17\n";
        let out = run(&old, p, 0, false);
        assert!(
            out.ends_with("#1 at 3 offset 1 fuzz 0\n#2 at 16 offset 0 fuzz 0\n"),
            "{out}"
        );
    }

    #[test]
    fn edges_need_anchoring() {
        // Less leading than trailing context: only at the start of the file.
        let p = "--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n-1\n+one\n 2\n 3\n";
        check(&lines(4), p, "one\n2\n3\n4\n#1 at 1 offset 0 fuzz 0\n");
        check(
            &("0\n".to_string() + &lines(4)),
            p,
            "hunk #1 failed, expected at 1, closest Some((2, 0))\n",
        );
        // Less trailing context: only at the end.
        let p = "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n 2\n 3\n-4\n+four\n";
        check(&lines(4), p, "1\n2\n3\nfour\n#1 at 2 offset 0 fuzz 0\n");
        check(
            &lines(5),
            p,
            "hunk #1 failed, expected at 2, closest Some((2, 0))\n",
        );
    }

    #[test]
    fn zero_context() {
        let p = "--- a/f\n+++ b/f\n@@ -3,0 +4,2 @@\n+a\n+b\n";
        check(
            &lines(5),
            p,
            "1\n2\n3\na\nb\n4\n5\n#1 at 4 offset 0 fuzz 0\n",
        );
        let p = "--- a/f\n+++ b/f\n@@ -3 +3 @@\n-3\n+c\n";
        check(&lines(5), p, "1\n2\nc\n4\n5\n#1 at 3 offset 0 fuzz 0\n");
        let p = "--- a/f\n+++ b/f\n@@ -0,0 +1 @@\n+top\n";
        check(&lines(2), p, "top\n1\n2\n#1 at 1 offset 0 fuzz 0\n");
    }

    #[test]
    fn no_newline_at_end() {
        let p = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n 1\n-2\n\\ No newline at end of file\n+2\n";
        check("1\n2", p, "1\n2\n#1 at 1 offset 0 fuzz 0\n");
        let p = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n 1\n-2\n+two\n\\ No newline at end of file\n";
        check("1\n2\n", p, "1\ntwo#1 at 1 offset 0 fuzz 0\n");
    }

    #[test]
    fn crlf_must_match_bytes() {
        let p = "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n 1\r\n-2\r\n+two\r\n";
        check("1\r\n2\r\n", p, "1\r\ntwo\r\n#1 at 1 offset 0 fuzz 0\n");
        check("1\n2\n", p, "hunk #1 failed, expected at 1, closest None\n");
    }

    #[test]
    fn fuzz_is_opt_in() {
        let old = "1\nX\n3\n4\n5\n";
        let p = "--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n 1\n 2\n-3\n+three\n 4\n 5\n";
        assert_eq!(
            run(old, p, 0, false),
            "hunk #1 failed, expected at 1, closest Some((1, 1))\n"
        );
        assert_eq!(
            run(old, p, 2, false),
            "1\nX\nthree\n4\n5\n#1 at 1 offset 0 fuzz 2\n"
        );
    }

    #[test]
    fn reversed_first_hunk_is_not_fuzzed_into_place() {
        // Forward, the hunk needs fuzz 1; reversed it matches exactly at the
        // end of the file, so (as GNU patch) the file counts as patched.
        let p = "--- a/f\n+++ b/f\n@@ -1,2 +1 @@\n c\n-c\n";
        assert_eq!(
            run("{\nx\nc\n", p, 1, false),
            "Reversed { hunk: 0, line: 3 }\n"
        );
    }

    #[test]
    fn reverse_detects_applied() {
        let new = "1\n2\nthree\n4\n5\n";
        assert_eq!(
            run(new, P_2_4, 0, true),
            "1\n2\n3\n4\n5\n#1 at 2 offset 0 fuzz 0\n"
        );
    }

    #[test]
    fn closest_is_reported() {
        let mut old = lines(60);
        old = old.replace("53\n", "fifty-three\n");
        let p = "--- a/f\n+++ b/f\n@@ -40,3 +40,3 @@\n 52\n-53\n+x\n 54\n";
        check(
            &old,
            p,
            "hunk #1 failed, expected at 40, closest Some((52, 1))\n",
        );
    }

    #[test]
    fn hostile_repetition_is_bounded() {
        // Every window of the file agrees with the hunk but for one line: the
        // rolling hash rejects each position without comparing lines.
        let old = "a\n".repeat(200_000);
        let mut p = String::from("--- a/f\n+++ b/f\n@@ -1,2001 +1,2001 @@\n");
        for _ in 0..2000 {
            p += " a\n";
        }
        p += "-b\n+c\n";
        let parsed = parse(p.as_bytes()).unwrap();
        let mut budget = WORK_BUDGET;
        let out = apply_hunks(
            old.as_bytes(),
            &parsed.files[0].hunks,
            false,
            0,
            &mut budget,
        );
        assert!(matches!(out, Err(Failure::NoMatch { .. })));
        let used = WORK_BUDGET - budget;
        assert!(used < 2_000_000, "used {used} units of work");
    }
}
