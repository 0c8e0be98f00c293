//! `Map` and `Set`: sorted vectors, for the tables of the TOML and JSON
//! readers, the manifest comparison and the small sets of paths of
//! `build_script` and `source`.
//!
//! Why not `BTreeMap`: every user compiles build-patch on every clean build
//! (`docs/benchmarks.md`, 2), and the standard B-tree compiles to some 5,000
//! lines of LLVM IR for each pair of key and value types it is used with; a
//! sorted vector needs a few hundred. The tables here hold tens to a few
//! thousand entries (web-sys has 1,500 features), usually added in key order,
//! so a lookup is a binary search and an insertion rarely moves anything. Not
//! for collections that can grow to tens of thousands of entries in random
//! order, such as the files of a directory: an insertion moves half of the
//! vector.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;

/// Binary search over `n` sorted items, where `cmp(i)` is how item `i` compares with
/// what is sought: where it is (`Ok`), or where it would go (`Err`). Not generic, so
/// compiled once for all the maps and sets (`binary_search_by` was compiled for each).
fn search(n: usize, cmp: &mut dyn FnMut(usize) -> Ordering) -> Result<usize, usize> {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        match cmp(mid) {
            Ordering::Less => lo = mid + 1,
            Ordering::Greater => hi = mid,
            Ordering::Equal => return Ok(mid),
        }
    }
    Err(lo)
}

/// A map whose entries are kept sorted by key, each key once.
///
/// Each entry is boxed, so that an insertion moves pointers, not entries: a manifest's
/// table entries are some 64 bytes, and a hostile manifest with 100,000 features in
/// reverse order took 20 s to read in a build script's debug build (1 s boxed;
/// the insertions stay quadratic, but only with tens of thousands of entries).
#[derive(PartialEq)]
#[cfg_attr(test, derive(Clone, Eq))]
pub(crate) struct Map<K, V> {
    entries: Vec<Box<(K, V)>>,
}

impl<K, V> Map<K, V> {
    /// An empty map.
    pub(crate) fn new() -> Self {
        Map {
            entries: Vec::new(),
        }
    }

    /// Adds an entry whose key comes after every key of the map, as when
    /// copying another map's entries in order: no search, and no
    /// insertion code compiled for a map type only ever filled this way.
    pub(crate) fn push_last(&mut self, key: K, value: V) {
        self.entries.push(Box::new((key, value)));
    }

    /// The keys, in order.
    #[cfg(test)]
    pub(crate) fn keys(&self) -> impl Iterator<Item = &K> {
        self.entries.iter().map(|e| &e.0)
    }
}

impl<K: Ord, V> Map<K, V> {
    /// Where `key` is (`Ok`), or where it would go (`Err`).
    fn find<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
    {
        let entries = &self.entries;
        search(entries.len(), &mut |i| entries[i].0.borrow().cmp(key))
    }

    /// The value of `key`.
    pub(crate) fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(&self.entries[i].1),
            Err(_) => None,
        }
    }

    /// The value of `key`, to change it.
    pub(crate) fn get_mut<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
    {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// Whether `key` has a value.
    pub(crate) fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.find(key).is_ok()
    }

    /// Sets the value of `key`, returning the one it replaces.
    pub(crate) fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, Box::new((key, value)));
                None
            }
        }
    }

    /// The value of `key`, inserting `make()` first if there is none.
    pub(crate) fn get_or_insert_with(&mut self, key: K, make: fn() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, Box::new((key, make())));
                i
            }
        };
        &mut self.entries[i].1
    }
}

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map::new()
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for Map<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.entries.iter().map(|e| (&e.0, &e.1)))
            .finish()
    }
}

/// Later entries replace earlier ones with the same key.
impl<K: Ord, V> FromIterator<(K, V)> for Map<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut map = Map::new();
        for (k, v) in iter {
            map.insert(k, v);
        }
        map
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = &'a (K, V);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Box<(K, V)>>, fn(&Box<(K, V)>) -> &(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|e| &**e)
    }
}

impl<K, V> IntoIterator for Map<K, V> {
    type Item = (K, V);
    type IntoIter = std::iter::Map<std::vec::IntoIter<Box<(K, V)>>, fn(Box<(K, V)>) -> (K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter().map(|e| *e)
    }
}

/// A set whose items are kept sorted, each once.
#[derive(PartialEq)]
#[cfg_attr(test, derive(Clone, Eq))]
pub(crate) struct Set<T> {
    items: Vec<T>,
}

impl<T> Set<T> {
    /// An empty set.
    pub(crate) fn new() -> Self {
        Set { items: Vec::new() }
    }

    /// The items, in order.
    pub(crate) fn iter(&self) -> std::slice::Iter<'_, T> {
        self.items.iter()
    }
}

impl<T: Ord> Set<T> {
    /// Whether `item` is in the set.
    pub(crate) fn contains<Q: Ord + ?Sized>(&self, item: &Q) -> bool
    where
        T: Borrow<Q>,
    {
        let items = &self.items;
        search(items.len(), &mut |i| items[i].borrow().cmp(item)).is_ok()
    }

    /// Adds `item`; false if it was there already.
    pub(crate) fn insert(&mut self, item: T) -> bool {
        let items = &self.items;
        match search(items.len(), &mut |i| items[i].cmp(&item)) {
            Ok(_) => false,
            Err(i) => {
                self.items.insert(i, item);
                true
            }
        }
    }

    /// Keeps only the items for which `keep` is true.
    #[cfg(test)]
    pub(crate) fn retain(&mut self, keep: impl FnMut(&T) -> bool) {
        self.items.retain(keep);
    }
}

impl<T> Default for Set<T> {
    fn default() -> Self {
        Set::new()
    }
}

impl<T: fmt::Debug> fmt::Debug for Set<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(&self.items).finish()
    }
}

impl<T: Ord> Extend<T> for Set<T> {
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        for item in iter {
            self.insert(item);
        }
    }
}

impl<T: Ord> FromIterator<T> for Set<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut set = Set::new();
        set.extend(iter);
        set
    }
}

impl<'a, T> IntoIterator for &'a Set<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl<T> IntoIterator for Set<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::{Map, Set};

    #[test]
    fn map_keeps_keys_sorted_and_once() {
        let mut map = Map::new();
        assert_eq!(map.insert("b".to_string(), 1), None);
        assert_eq!(map.insert("a".to_string(), 2), None);
        assert_eq!(map.insert("b".to_string(), 3), Some(1));
        *map.get_or_insert_with("c".to_string(), || 0) += 4;
        *map.get_or_insert_with("a".to_string(), || 0) += 4;
        let entries: Vec<(&str, i32)> = (&map).into_iter().map(|(k, v)| (k.as_str(), *v)).collect();
        assert_eq!(entries, [("a", 6), ("b", 3), ("c", 4)]);
        assert_eq!(map.get("b"), Some(&3));
        assert!(!map.contains_key("d"));
        assert_eq!(format!("{map:?}"), r#"{"a": 6, "b": 3, "c": 4}"#);
    }

    #[test]
    fn set_keeps_items_sorted_and_once() {
        let mut set: Set<String> = ["b", "a", "b"].iter().map(|s| s.to_string()).collect();
        assert!(set.insert("c".to_string()));
        assert!(!set.insert("a".to_string()));
        set.retain(|s| s != "b");
        assert_eq!(set.iter().collect::<Vec<_>>(), ["a", "c"]);
        assert!(set.contains("c") && !set.contains("b"));
        assert_eq!(format!("{set:?}"), r#"{"a", "c"}"#);
    }
}
