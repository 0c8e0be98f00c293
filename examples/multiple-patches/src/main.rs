//! Both patches of the series are in, in order.

fn main() {
    for word in ["{a,b}", "no\u{a0}break"] {
        let quoted = shlex::quote(word);
        println!("shlex::quote({word:?}) = {quoted}");
        assert_ne!(quoted, word, "`{word}` went unquoted: a patch is missing");
    }
    println!("ok: shlex 1.1.0 with 2 patches, applied in order");
}
