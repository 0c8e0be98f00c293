//! Built offline from `vendor/`: the patched shlex, from the vendored
//! pristine copy, quotes braces.

fn main() {
    let word = "{a,b}";
    let quoted = shlex::quote(word);
    println!("shlex::quote({word:?}) = {quoted}");
    assert_ne!(quoted, word, "the patch is not in: `{{` went unquoted");
    println!("ok: the patched shlex 1.1.0, from vendor/, quotes braces");
}
