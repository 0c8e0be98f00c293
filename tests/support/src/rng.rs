//! The tests' one seeded random source.

/// A small seeded generator (xorshift64*): the same seed gives the same
/// cases, so a failing run can be repeated.
pub struct Rng(u64);

impl Rng {
    /// A generator with a fixed seed (not 0): the same cases on every run.
    pub fn new(seed: u64) -> Rng {
        assert_ne!(seed, 0, "xorshift stays at 0");
        Rng(seed)
    }

    /// A generator seeded by `BUILD_PATCH_SEED`, or by the clock (printed, so
    /// that the run can be repeated with `BUILD_PATCH_SEED`).
    pub fn from_env() -> Rng {
        let seed = std::env::var("BUILD_PATCH_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("random seed: BUILD_PATCH_SEED={seed}");
        Rng(seed | 1)
    }

    /// The next 64 random bits.
    pub fn bits(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.bits() % n.max(1) as u64) as usize
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// One of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `text` with one to three characters of `alphabet` inserted or removed
    /// at random places: the mutation of the readers' differential tests.
    pub fn mutate(&mut self, text: &str, alphabet: &[char]) -> String {
        let mut text = text.to_string();
        for _ in 0..1 + self.below(3) {
            let boundaries: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let at = *self.pick(&boundaries);
            if at == text.len() || self.below(2) == 0 {
                text.insert(at, *self.pick(alphabet));
            } else {
                text.remove(at);
            }
        }
        text
    }
}
