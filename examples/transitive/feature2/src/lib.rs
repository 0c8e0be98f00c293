//! Another user of shlex: joins words into one shell-safe line.
pub fn join(words: &[&str]) -> String {
    shlex::join(words.iter().copied())
}
