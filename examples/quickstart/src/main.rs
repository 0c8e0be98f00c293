//! Prints evidence that the patched `shlex` is the one compiled in.

use std::process::Command;

fn main() {
    let word = "{a,b}";
    let quoted = shlex::quote(word);
    // The patched `quote` wraps the word in double quotes; 1.1.0 as
    // released returns it unchanged.
    println!("shlex::quote({word:?}) = {quoted}   (shlex 1.1.0 unpatched: {word})");

    // Without the patch `quoted` is `{a,b}`, which bash expands to `a b`.
    match Command::new("bash")
        .arg("-c")
        .arg(format!("printf %s {quoted}"))
        .output()
    {
        Ok(out) => println!("bash reads it back as {:?}", String::from_utf8_lossy(&out.stdout)),
        Err(_) => println!("(bash is not installed: skipped the shell round trip)"),
    }

    assert_ne!(quoted, word, "the patch is not in: `{{` went unquoted");
    println!("ok: the patched shlex 1.1.0 quotes braces");
}
