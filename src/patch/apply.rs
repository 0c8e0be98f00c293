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
//! patch (as GNU patch does), and the output is assembled as they are placed,
//! unchanged runs of lines being copied in one piece.
//!
//! Cost: like GNU patch, a search first compares lines directly, at the
//! first few positions ([`DIRECT_PROBES`]), which is where nearly every hunk
//! of a real patch is found; so a patch whose hunks all fit where they say
//! costs time proportional to the patch, plus one pass to split the file into
//! lines. Only a search that goes further hashes the file's lines (once per
//! file, on first need); positions are then filtered by the hash of their
//! first line, and a window by its lines' hashes or, when long, by a rolling
//! hash (built on first need too), before any line is compared. A search
//! therefore costs time proportional to the file whatever the input, and a
//! budget per call stops pathological patches.

use std::cell::{Cell, OnceCell};

use super::parse::{Hunk, HunkLine, LineKind};

/// Where a hunk was applied.
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug, PartialEq, Eq))]
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
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct Closest {
    /// 1-based line of the old file where the closest match starts.
    pub(crate) line: usize,
    /// The file's lines there (fewer than the hunk's at the end of the
    /// file); where one differs from the hunk's is for the message to see.
    pub(crate) lines: Vec<Vec<u8>>,
    pub(crate) differing: usize,
}

/// A hunk that matched nowhere. `expected_line` is where the hunk was
/// looked for first (1-based), `expected` the old lines it needed.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) struct NoMatch {
    pub(crate) hunk: usize,
    pub(crate) expected_line: usize,
    pub(crate) expected: Vec<Vec<u8>>,
    pub(crate) closest: Option<Closest>,
    /// The hunk's lines end in CRLF and the file's in LF, or the reverse.
    pub(crate) line_endings_differ: bool,
    /// The fuzz (at most [`MAX_SUGGESTED_FUZZ`]) and line at which the
    /// hunk would have been placed, had that fuzz been allowed.
    pub(crate) fits_with: Option<(usize, usize)>,
}

/// Why a hunk could not be applied.
#[cfg_attr(test, derive(Debug, Clone, PartialEq, Eq))]
pub(crate) enum Failure {
    /// No position matched (boxed: the rare case keeps `Result`s small).
    NoMatch(Box<NoMatch>),
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

/// Positions a search compares line by line, as GNU patch does, before it
/// hashes the file: enough for a hunk found at its line or a few lines off.
const DIRECT_PROBES: u32 = 8;

/// Windows up to this many lines are compared by their lines' hashes, longer
/// ones by the rolling hash.
const SHORT_WINDOW: usize = WINDOW_COST as usize;

/// Bytes of a line compared per work unit, beyond the unit for the line.
const BYTES_PER_UNIT: usize = 64;

/// A hunk seen from one direction (forward, or reversed to test whether a
/// patch is already applied).
struct View<'h> {
    /// GNU's `pch_first`: the first old line, or the line to insert before.
    first: isize,
    pattern: Vec<&'h [u8]>,
    /// `line_hash` of each pattern line, on first need (see `hashes`).
    pattern_hashes: OnceCell<Vec<u64>>,
    /// The hunk's lines, each read through [`View::kind`].
    lines: &'h [HunkLine],
    reverse: bool,
    prefix: usize,
    suffix: usize,
}

impl View<'_> {
    /// The hashes of the pattern's lines: needed only once a search goes
    /// past its direct probes, which most never do.
    fn hashes(&self) -> &[u64] {
        if let Some(hashes) = self.pattern_hashes.get() {
            return hashes;
        }
        let mut hashes = Vec::with_capacity(self.pattern.len());
        for line in &self.pattern {
            hashes.push(line_hash(line));
        }
        cache(&self.pattern_hashes, hashes)
    }

    /// What line `i` of the hunk does in this direction.
    fn kind(&self, i: usize) -> LineKind {
        match (self.lines[i].kind, self.reverse) {
            (LineKind::Delete, true) => LineKind::Insert,
            (LineKind::Insert, true) => LineKind::Delete,
            (k, _) => k,
        }
    }
}

/// Fills an empty `cell` with `hashes` and returns them: what
/// `OnceCell::get_or_init` does, without its closure, which compiles to
/// one function per call site.
fn cache(cell: &OnceCell<Vec<u64>>, hashes: Vec<u64>) -> &[u64] {
    let _ = cell.set(hashes);
    match cell.get() {
        Some(hashes) => hashes,
        None => unreachable!("the cell was just filled"),
    }
}

fn view(h: &Hunk, reverse: bool) -> View<'_> {
    let (start, count) = if reverse {
        (h.new_start, h.new_count)
    } else {
        (h.old_start, h.old_count)
    };
    let mut v = View {
        // A hunk that removes nothing inserts before the line after `start`.
        first: if count == 0 { start + 1 } else { start } as isize,
        pattern: Vec::with_capacity(h.lines.len()),
        pattern_hashes: OnceCell::new(),
        lines: &h.lines,
        reverse,
        prefix: 0,
        suffix: 0,
    };
    // Leading and trailing context, counted on the old side.
    let mut first_change = None;
    let mut last_change = 0;
    let mut i = 0;
    while i < h.lines.len() {
        let kind = v.kind(i);
        if kind != LineKind::Insert {
            v.pattern.push(h.lines[i].text.as_slice());
        }
        if kind != LineKind::Context {
            if first_change.is_none() {
                first_change = Some(i);
            }
            last_change = i;
        }
        i += 1;
    }
    (v.prefix, v.suffix) = match first_change {
        None => (v.pattern.len(), v.pattern.len()),
        Some(f) => (f, h.lines.len() - 1 - last_change),
    };
    v
}

/// The rolling hash works modulo the Mersenne prime 2^61 - 1, so reducing
/// needs a shift, a mask and an add, not a division.
const HASH_MOD: u64 = (1 << 61) - 1;
const HASH_BASE: u64 = 1_000_003;

/// `x` modulo [`HASH_MOD`], for any `x`.
fn reduce(x: u64) -> u64 {
    let r = (x & HASH_MOD) + (x >> 61);
    if r >= HASH_MOD {
        r - HASH_MOD
    } else {
        r
    }
}

/// `a * b` modulo [`HASH_MOD`], for `a` and `b` below it.
fn mulmod(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    // p < 2^122, so both halves are below 2^61 and their sum below 2^62.
    let r = (p as u64 & HASH_MOD) + (p >> 61) as u64;
    if r >= HASH_MOD {
        r - HASH_MOD
    } else {
        r
    }
}

/// The rolling hash of a run of lines extended by one line's hash.
fn extend(acc: u64, line_hash: u64) -> u64 {
    reduce(mulmod(acc, HASH_BASE) + line_hash + 1)
}

/// [`HASH_BASE`] to the power `k`, modulo [`HASH_MOD`].
fn power(mut k: usize) -> u64 {
    let (mut result, mut base) = (1, HASH_BASE);
    while k > 0 {
        if k & 1 == 1 {
            result = mulmod(result, base);
        }
        base = mulmod(base, base);
        k >>= 1;
    }
    result
}

/// A hash of one line, below [`HASH_MOD`]. Equal lines have equal hashes;
/// the converse is checked byte by byte.
fn line_hash(line: &[u8]) -> u64 {
    hash_bytes(line, 0, line.len())
}

/// [`line_hash`] of `bytes[from..to]`, read eight bytes at a time (the last
/// word overlapping the one before; a short line as up to eight bytes).
/// Plain indexing: build scripts run this unoptimised, once per line of a
/// file, where taking a sub-slice or a chunk is a call with checks.
fn hash_bytes(bytes: &[u8], from: usize, to: usize) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    // Ending the slice at `to` lets the optimiser see that every index
    // below is in bounds, and read each word in one load.
    let bytes = &bytes[..to];
    let mut h = ((to - from) as u64).wrapping_mul(K);
    let last = if to - from >= 8 {
        let mut i = from;
        while i + 8 < to {
            h = (h ^ word_at(bytes, i)).wrapping_mul(K);
            h ^= h >> 32;
            i += 8;
        }
        word_at(bytes, to - 8)
    } else {
        let mut last = 0;
        let mut i = from;
        while i < to {
            last = last << 8 | bytes[i] as u64;
            i += 1;
        }
        last
    };
    h = (h ^ last).wrapping_mul(K);
    h ^= h >> 29;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 32;
    reduce(h >> 3)
}

/// The eight bytes of `bytes` at `i`, little-endian. Always inlined, also
/// unoptimised, where a call would cost more than the load.
#[inline(always)]
fn word_at(bytes: &[u8], i: usize) -> u64 {
    match bytes[i..i + 8].try_into() {
        Ok(word) => u64::from_le_bytes(word),
        Err(_) => unreachable!("eight bytes"),
    }
}

/// The old file, split into lines. The hashes of its lines and their
/// running rolling hash are computed on first need only, since most patches
/// are placed without them.
pub(crate) struct Text<'a> {
    bytes: &'a [u8],
    /// Line `i` is `bytes[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    hashes: OnceCell<Vec<u64>>,
    /// `prefix[i]`: rolling hash of lines `[0, i)`.
    prefix: OnceCell<Vec<u64>>,
}

impl<'a> Text<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Text<'a> {
        Text {
            bytes,
            starts: super::parse::line_starts(bytes),
            hashes: OnceCell::new(),
            prefix: OnceCell::new(),
        }
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// Line `i` (0-based), with its terminator.
    fn line(&self, i: usize) -> &'a [u8] {
        &self.bytes[self.starts[i]..self.starts[i + 1]]
    }

    /// Lines `[from, to)` (0-based) as one slice.
    fn span(&self, from: usize, to: usize) -> &'a [u8] {
        &self.bytes[self.starts[from]..self.starts[to]]
    }

    fn hashes(&self) -> &[u64] {
        if let Some(hashes) = self.hashes.get() {
            return hashes;
        }
        let (bytes, starts) = (self.bytes, &self.starts);
        let mut hashes = Vec::with_capacity(self.len());
        let mut i = 0;
        while i < self.len() {
            hashes.push(hash_bytes(bytes, starts[i], starts[i + 1]));
            i += 1;
        }
        cache(&self.hashes, hashes)
    }

    /// Rolling hash of lines `[from, to)` (0-based); `power` is
    /// `power(to - from)`.
    fn window(&self, from: usize, to: usize, power: u64) -> u64 {
        let prefix = match self.prefix.get() {
            Some(prefix) => prefix,
            None => {
                let hashes = self.hashes();
                let mut prefix = Vec::with_capacity(hashes.len() + 1);
                let mut acc = 0;
                prefix.push(acc);
                for &h in hashes {
                    acc = extend(acc, h);
                    prefix.push(acc);
                }
                cache(&self.prefix, prefix)
            }
        };
        reduce(prefix[to] + HASH_MOD - mulmod(prefix[from], power))
    }
}

/// What one search looks for: the pattern without `pf` leading lines, `k`
/// lines long.
struct Window {
    pf: usize,
    k: usize,
    /// The window's rolling hash and `power(k)`, on first need.
    rolling: Cell<Option<(u64, u64)>>,
}

impl Window {
    fn rolling(&self, v: &View<'_>) -> (u64, u64) {
        if let Some(rolling) = self.rolling.get() {
            return rolling;
        }
        let mut hash = 0;
        for &h in &v.hashes()[self.pf..self.pf + self.k] {
            hash = extend(hash, h);
        }
        let rolling = (hash, power(self.k));
        self.rolling.set(Some(rolling));
        rolling
    }
}

/// The window of `v` without `pf` leading and `sf` trailing lines (negative
/// counts as 0), or `None` when that leaves less than nothing.
fn window(v: &View<'_>, pf: isize, sf: isize) -> Option<Window> {
    let (pf, sf) = (pf.max(0) as usize, sf.max(0) as usize);
    let k = v.pattern.len().checked_sub(pf + sf)?;
    Some(Window {
        pf,
        k,
        rolling: Cell::new(None),
    })
}

/// Matching state for one file: GNU's `in_offset` and `last_frozen_line`.
struct Matcher<'t, 'a> {
    text: &'t Text<'a>,
    in_offset: isize,
    frozen: isize,
    budget: &'t mut u64,
    /// Positions the current search may still compare without hashes.
    direct: u32,
}

impl Matcher<'_, '_> {
    /// Whether window `w` of the pattern matches at 1-based line `at`
    /// (where the pattern's first line would be).
    fn matches(&mut self, v: &View<'_>, w: &Option<Window>, at: isize) -> bool {
        *self.budget = self.budget.saturating_sub(1);
        let Some(w) = w else {
            return false;
        };
        let from = at - 1 + w.pf as isize;
        if from < 0 || from + w.k as isize > self.text.len() as isize {
            return false;
        }
        let from = from as usize;
        if w.k == 0 {
            return true;
        }
        let pattern = &v.pattern[w.pf..w.pf + w.k];
        if self.direct > 0 {
            self.direct -= 1;
            return self.same_lines(pattern, from);
        }
        // Cheapest test first: the first line's hash, then the window's
        // (which costs more, and is charged so).
        let hashes = self.text.hashes();
        let want = &v.hashes()[w.pf..w.pf + w.k];
        if hashes[from] != want[0] {
            return false;
        }
        if w.k <= SHORT_WINDOW {
            *self.budget = self.budget.saturating_sub(w.k as u64);
            if hashes[from..from + w.k] != *want {
                return false;
            }
        } else {
            *self.budget = self.budget.saturating_sub(WINDOW_COST);
            let (hash, power) = w.rolling(v);
            if self.text.window(from, from + w.k, power) != hash {
                return false;
            }
        }
        self.same_lines(pattern, from)
    }

    /// Compares the pattern with the file's lines from 0-based `from`, up to
    /// the first difference, charging for each line compared.
    fn same_lines(&mut self, pattern: &[&[u8]], from: usize) -> bool {
        let mut i = 0;
        while i < pattern.len() {
            let line = self.text.line(from + i);
            let cost = 1 + (line.len() / BYTES_PER_UNIT) as u64;
            *self.budget = self.budget.saturating_sub(cost);
            if line != pattern[i] {
                return false;
            }
            i += 1;
        }
        true
    }

    /// The search loop of [`Matcher::locate`] without the comparisons: from
    /// distance `offset` on, the first distance at which a position after
    /// (up to `max_pos`) or before (up to `max_neg`) the guess has the
    /// window's first line by its hash, charging one unit per position
    /// passed. Returns a distance past `max_offset` if there is none. Each
    /// side is scanned a block of distances at a time, a plain pass over the
    /// hashes.
    #[allow(clippy::too_many_arguments)]
    fn skip(
        &mut self,
        v: &View<'_>,
        w: &Window,
        first_guess: isize,
        mut offset: isize,
        max_offset: isize,
        max_pos: isize,
        max_neg: isize,
    ) -> isize {
        const BLOCK: isize = 1024;
        if w.k == 0 {
            return offset;
        }
        let hashes = self.text.hashes();
        let want = v.hashes()[w.pf];
        // 0-based index of the window's first line at distance 0, and the
        // last index where a window still fits in the file.
        let base = first_guess - 1 + w.pf as isize;
        let last = self.text.len() as isize - w.k as isize;
        while offset <= max_offset && *self.budget > 0 {
            let end = (offset + BLOCK - 1).min(max_offset);
            let mut found = None;
            // After the guess: index base + o, within [0, last].
            let (lo, hi) = (offset.max(-base), end.min(max_pos).min(last - base));
            if lo <= hi {
                let (mut i, end) = ((base + lo) as usize, (base + hi) as usize);
                while i < end && hashes[i] != want {
                    i += 1;
                }
                if hashes[i] == want {
                    found = Some(i as isize - base);
                }
            }
            // Before: index base - o, within [0, last]; nearest first.
            let (lo, hi) = (offset.max(base - last), end.min(max_neg).min(base));
            if lo <= hi {
                let (mut i, end) = ((base - lo) as usize, (base - hi) as usize);
                while i > end && hashes[i] != want {
                    i -= 1;
                }
                if hashes[i] == want {
                    let o = base - i as isize;
                    found = match found {
                        Some(f) if f < o => Some(f),
                        _ => Some(o),
                    };
                }
            }
            if let Some(o) = found {
                let passed = positions(offset, o - 1, max_pos, max_neg);
                *self.budget = self.budget.saturating_sub(passed);
                return o;
            }
            let passed = positions(offset, end, max_pos, max_neg);
            *self.budget = self.budget.saturating_sub(passed);
            offset = end + 1;
        }
        offset
    }

    /// GNU patch's `locate_hunk` at one fuzz level: the 1-based line where
    /// the hunk goes, or `None`.
    fn locate(&mut self, v: &View<'_>, fuzz: usize) -> Option<isize> {
        self.direct = DIRECT_PROBES;
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
        if prefix_fuzz < 0 && v.first <= 1 {
            // Can only match at the start of the file.
            if suffix_fuzz < 0 && (pat != n || prefix < self.frozen) {
                return None;
            }
            let offset = 1 - first_guess;
            let w = window(v, 0, suffix_fuzz);
            if self.frozen <= prefix && offset <= max_pos && self.matches(v, &w, 1) {
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
            let w = window(v, prefix_fuzz, 0);
            if offset <= max_neg && self.matches(v, &w, first_guess - offset) {
                self.in_offset -= offset;
                return Some(first_guess - offset);
            }
            return None;
        }
        let w = window(v, prefix_fuzz, suffix_fuzz);
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
            if self.direct == 0 {
                if let Some(w) = &w {
                    offset = self.skip(v, w, first_guess, offset, max_offset, max_pos, max_neg);
                    if offset > max_offset || *self.budget == 0 {
                        return None;
                    }
                }
            }
            if offset <= max_pos && self.matches(v, &w, first_guess + offset) {
                self.in_offset += offset;
                return Some(first_guess + offset);
            }
            if offset <= max_neg && self.matches(v, &w, first_guess - offset) {
                self.in_offset -= offset;
                return Some(first_guess - offset);
            }
            offset += 1;
        }
        None
    }
}

/// How many positions there are at distances `offset..=to` after the guess
/// (up to `max_pos`) and before it (up to `max_neg`).
fn positions(offset: isize, to: isize, max_pos: isize, max_neg: isize) -> u64 {
    let after = (to.min(max_pos) - offset + 1).max(0);
    let before = (to.min(max_neg) - offset + 1).max(0);
    (after + before) as u64
}

/// Output under construction, with GNU's rule that a line appended after a
/// line without a terminator first gets a `\n`.
struct Out {
    bytes: Vec<u8>,
}

impl Out {
    /// Appends one line, or a run of lines of which only the last may lack
    /// its terminator.
    fn push(&mut self, lines: &[u8]) {
        if lines.is_empty() {
            return;
        }
        if matches!(self.bytes.last(), Some(&b) if b != b'\n') {
            self.bytes.push(b'\n');
        }
        self.bytes.extend_from_slice(lines);
    }
}

/// Copies old lines through 1-based line `till`, in one piece; false if
/// `till` is before what is already consumed (GNU's "misordered hunks").
fn copy_till(text: &Text<'_>, out: &mut Out, frozen: &mut isize, till: isize) -> bool {
    if *frozen > till {
        return false;
    }
    // Lines past the end of the file copy nothing, so that a hunk claiming a
    // huge line number costs nothing.
    let last = till.min(text.len() as isize);
    if *frozen < last {
        out.push(text.span(*frozen as usize, last as usize));
    }
    *frozen = till;
    true
}

/// Applies `hunks` to the file `text`, returning the new bytes and where each
/// hunk went.
///
/// With `reverse`, the hunks are applied backwards (to test whether a patch
/// is already applied). `max_fuzz` is the most context lines ignored.
pub(crate) fn apply_hunks(
    text: &Text<'_>,
    hunks: &[Hunk],
    reverse: bool,
    max_fuzz: usize,
    budget: &mut u64,
) -> Result<(Vec<u8>, Vec<Placement>), Failure> {
    let mut capacity = text.bytes.len();
    for h in hunks {
        for l in &h.lines {
            capacity += l.text.len();
        }
    }
    let mut out = Out {
        bytes: Vec::with_capacity(capacity),
    };
    let mut placements = Vec::with_capacity(hunks.len());
    let mut m = Matcher {
        text,
        in_offset: 0,
        frozen: 0,
        budget,
        direct: 0,
    };
    let mut index = 0;
    while index < hunks.len() {
        let hunk = &hunks[index];
        let v = view(hunk, reverse);
        let fuzz_limit = max_fuzz.min(v.prefix.max(v.suffix));
        let guess = v.first + m.in_offset;
        let mut found = None;
        let mut fuzz = 0;
        while fuzz <= fuzz_limit {
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
                        text,
                        in_offset: 0,
                        frozen: 0,
                        budget: &mut *m.budget,
                        direct: 0,
                    };
                    if let Some(at) = probe.locate(&back, fuzz) {
                        return Err(Failure::Reversed {
                            hunk: index,
                            line: at.max(1) as usize,
                        });
                    }
                }
            }
            fuzz += 1;
        }
        if *m.budget == 0 {
            return Err(Failure::TooExpensive { hunk: index });
        }
        let Some((at, fuzz)) = found else {
            // Would a little more fuzz have placed it? Worth saying in the
            // error; probed on a copy of the state, nothing is applied.
            let mut fits_with = None;
            let mut more = fuzz_limit + 1;
            while more <= MAX_SUGGESTED_FUZZ.min(v.prefix.max(v.suffix)) {
                let mut probe = Matcher {
                    text,
                    in_offset: m.in_offset,
                    frozen: m.frozen,
                    budget: &mut *m.budget,
                    direct: 0,
                };
                if let Some(at) = probe.locate(&v, more) {
                    fits_with = Some((more, at.max(1) as usize));
                    break;
                }
                more += 1;
            }
            let mut failure = no_match(text, &v, index, guess, m.budget);
            failure.fits_with = fits_with;
            return Err(Failure::NoMatch(Box::new(failure)));
        };
        placements.push(Placement {
            line: at.max(0) as usize,
            offset: at - guess,
            fuzz,
        });
        // Replay the hunk: context lines are copied from the file, so fuzzed
        // context keeps the file's text, as with GNU patch.
        let mut old_idx: isize = 0;
        let mut i = 0;
        while i < v.lines.len() {
            let kind = v.kind(i);
            if kind == LineKind::Context {
                old_idx += 1;
            } else {
                // A change: the old lines before it are copied first.
                if !copy_till(text, &mut out, &mut m.frozen, at + old_idx - 1) {
                    return Err(Failure::Misordered {
                        hunk: index,
                        line: at.max(0) as usize,
                    });
                }
                if kind == LineKind::Delete {
                    m.frozen += 1;
                    old_idx += 1;
                } else {
                    out.push(&v.lines[i].text);
                }
            }
            i += 1;
        }
        index += 1;
    }
    let n = text.len() as isize;
    if m.frozen < n {
        copy_till(text, &mut out, &mut m.frozen, n);
    }
    Ok((out.bytes, placements))
}

/// Sorts `v` by hash: a heapsort, a few dozen lines compiled where the
/// standard sorts instantiate thousands. The order among equal hashes does
/// not matter.
fn heapsort_by_hash(v: &mut [(u64, usize)]) {
    let len = v.len();
    let mut i = len + len / 2;
    while i > 0 {
        i -= 1;
        let (mut root, end) = if i >= len {
            (i - len, len)
        } else {
            v.swap(0, i);
            (0, i)
        };
        loop {
            let mut child = 2 * root + 1;
            if child >= end {
                break;
            }
            if child + 1 < end && v[child].0 < v[child + 1].0 {
                child += 1;
            }
            if v[root].0 >= v[child].0 {
                break;
            }
            v.swap(root, child);
            root = child;
        }
    }
}

/// The range of `sorted` (by hash) whose hash is `h`.
fn equal_range(sorted: &[(u64, usize)], h: u64) -> (usize, usize) {
    let (mut lo, mut hi) = (0, sorted.len());
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if sorted[mid].0 < h {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    let mut end = lo;
    while end < sorted.len() && sorted[end].0 == h {
        end += 1;
    }
    (lo, end)
}

/// Builds the failure report for a hunk, with the closest lines found.
fn no_match(text: &Text<'_>, v: &View<'_>, hunk: usize, guess: isize, budget: &mut u64) -> NoMatch {
    let expected_line = guess.max(1) as usize;
    let closest = closest_match(text, &v.pattern, expected_line, budget);
    let line_endings_differ = match v.pattern.first() {
        Some(p) if text.len() > 0 => {
            let t = text.line(0);
            p.ends_with(b"\n") && t.ends_with(b"\n") && p.ends_with(b"\r\n") != t.ends_with(b"\r\n")
        }
        _ => false,
    };
    let mut expected = Vec::with_capacity(v.pattern.len());
    for l in &v.pattern {
        expected.push(l.to_vec());
    }
    NoMatch {
        hunk,
        expected_line,
        expected,
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
    // The pattern's lines by hash: (hash, line) sorted by hash, searched by
    // bisection (a map, or a standard sort, compiles to thousands of lines).
    let mut by_hash: Vec<(u64, usize)> = Vec::with_capacity(k);
    // A 4096-bit filter on the hashes of the pattern's lines spares most
    // lines of the file a look-up in `by_hash`.
    let mut filter = [0u64; 64];
    let mut i = 0;
    while i < k {
        let h = line_hash(pattern[i]);
        filter[(h >> 6) as usize & 63] |= 1 << (h & 63);
        by_hash.push((h, i));
        i += 1;
    }
    heapsort_by_hash(&mut by_hash);
    // votes[s] counts pattern lines agreeing when the pattern starts at
    // 0-based file line s - (k - 1) (shifted to stay non-negative); `voted`
    // lists the positions with a vote.
    // (`u64`, as the hashes: a plain loop, and no other kind of vector,
    // compiles to less than `vec![0; n + k]`.)
    let mut votes: Vec<u64> = Vec::with_capacity(n + k);
    while votes.len() < n + k {
        votes.push(0);
    }
    let mut voted = Vec::new();
    // A plain loop: unoptimised, an iterator adapter costs more per line
    // than the test it wraps.
    let hashes = text.hashes();
    let mut j = 0;
    while j < n {
        let h = hashes[j];
        let maybe = filter[(h >> 6) as usize & 63] & (1 << (h & 63)) != 0;
        let (from, to) = if maybe {
            equal_range(&by_hash, h)
        } else {
            (0, 0)
        };
        if from < to && to - from <= MAX_REPEATS {
            *budget = budget.saturating_sub((to - from) as u64);
            for &(_, i) in &by_hash[from..to] {
                if pattern[i] == text.line(j) {
                    let s = j + k - 1 - i;
                    if votes[s] == 0 {
                        voted.push(s);
                    }
                    votes[s] += 1;
                }
            }
        }
        j += 1;
    }
    // The most votes, then the nearest to the expected line, then the later.
    let target = (expected as isize - 1) + (k as isize - 1);
    let distance = |s: usize| (s as isize - target).unsigned_abs();
    let mut best: Option<usize> = None;
    for &s in &voted {
        let better = match best {
            None => true,
            Some(b) => {
                votes[s] > votes[b]
                    || (votes[s] == votes[b]
                        && (distance(s) < distance(b) || (distance(s) == distance(b) && s > b)))
            }
        };
        if better {
            best = Some(s);
        }
    }
    let best = best?;
    // Clamp the window to the file and report it line by line.
    let start = (best as isize - (k as isize - 1))
        .max(0)
        .min(n.saturating_sub(k) as isize) as usize;
    let mut lines = Vec::new();
    let mut differing = 0;
    let mut i = 0;
    while i < k {
        if start + i < n {
            let l = text.line(start + i);
            differing += usize::from(l != pattern[i]);
            lines.push(l.to_vec());
        } else {
            differing += 1;
        }
        i += 1;
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
            &Text::new(old.as_bytes()),
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
            Err(Failure::NoMatch(m)) => {
                format!(
                    "hunk #{} failed, expected at {}, closest {:?}\n",
                    m.hunk + 1,
                    m.expected_line,
                    m.closest.map(|c| (c.line, c.differing))
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
            &Text::new(old.as_bytes()),
            &parsed.files[0].hunks,
            false,
            0,
            &mut budget,
        );
        assert!(matches!(out, Err(Failure::NoMatch(_))));
        let used = WORK_BUDGET - budget;
        assert!(used < 2_000_000, "used {used} units of work");
    }
}
