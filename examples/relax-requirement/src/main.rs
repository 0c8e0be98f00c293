//! One copy of cfg-if in the graph, and both users of it still work.

fn main() {
    let meta = std::fs::metadata("Cargo.toml").expect("run from the example's directory");
    let mtime = filetime::FileTime::from_last_modification_time(&meta);
    println!("filetime works: Cargo.toml was modified at {} s", mtime.unix_seconds());

    let mut bytes = [0u8; 4];
    getrandom::getrandom(&mut bytes).expect("getrandom works");
    println!("getrandom works: {} random bytes", bytes.len());
    println!("run `cargo tree -d` here: no duplicate cfg-if");
}
