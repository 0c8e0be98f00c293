//! smallvec 1.6.0's insert_many wrote past its buffer when an iterator
//! yielded more items than its size_hint promised (RUSTSEC-2021-0003). With
//! the backported fix, the result is exact.

use smallvec::SmallVec;

/// An iterator that promises nothing (size_hint 0) and yields 100 items.
struct Understated(u32);

impl Iterator for Understated {
    type Item = u32;
    fn next(&mut self) -> Option<u32> {
        (self.0 < 100).then(|| {
            self.0 += 1;
            self.0
        })
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, None)
    }
}

fn main() {
    let mut v: SmallVec<[u32; 4]> = SmallVec::new();
    v.extend([0, 1000]);
    v.insert_many(1, Understated(0));
    let expected: Vec<u32> = std::iter::once(0).chain(1..=100).chain([1000]).collect();
    assert_eq!(v.as_slice(), expected.as_slice(), "insert_many lost or broke items");
    println!("insert_many put {} items in order: the 1.6.1 fix is in smallvec 1.6.0", v.len() - 2);
}
