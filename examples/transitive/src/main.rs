//! Two crates of the graph use shlex; both see the patched copy.

fn main() {
    let one = feature1::echo_command("{a,b}");
    let two = feature2::join(&["cp", "{x,y}", "dest"]);
    println!("feature1: {one}");
    println!("feature2: {two}");
    assert!(!one.contains(" {a,b}"), "feature1 did not get the patch");
    assert!(!two.contains(" {x,y} "), "feature2 did not get the patch");
    println!("ok: both dependents compile against the patched shlex 1.1.0");
}
