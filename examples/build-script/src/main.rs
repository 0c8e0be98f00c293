//! Compresses and decompresses a buffer through bzip2-sys, then shows which
//! libbz2 the program runs: the system's shared library, as Debian's patch
//! to bzip2-sys's *build script* asks, not the bundled sources it compiles
//! by default.

use std::mem::MaybeUninit;
use std::os::raw::{c_char, c_int, c_uint};

use bzip2_sys as bz;

fn compress(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; data.len() + data.len() / 100 + 600];
    // SAFETY: a zeroed bz_stream is what libbz2 expects before *Init; the
    // buffers outlive the stream, which is ended before returning.
    unsafe {
        let mut s: bz::bz_stream = MaybeUninit::zeroed().assume_init();
        assert_eq!(bz::BZ2_bzCompressInit(&mut s, 9, 0, 0), bz::BZ_OK);
        s.next_in = data.as_ptr() as *mut c_char;
        s.avail_in = data.len() as c_uint;
        s.next_out = out.as_mut_ptr() as *mut c_char;
        s.avail_out = out.len() as c_uint;
        assert_eq!(bz::BZ2_bzCompress(&mut s, bz::BZ_FINISH), bz::BZ_STREAM_END);
        out.truncate(out.len() - s.avail_out as usize);
        assert_eq!(bz::BZ2_bzCompressEnd(&mut s), bz::BZ_OK);
    }
    out
}

fn decompress(data: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    // SAFETY: as in `compress`.
    unsafe {
        let mut s: bz::bz_stream = MaybeUninit::zeroed().assume_init();
        assert_eq!(bz::BZ2_bzDecompressInit(&mut s, 0, 0 as c_int), bz::BZ_OK);
        s.next_in = data.as_ptr() as *mut c_char;
        s.avail_in = data.len() as c_uint;
        s.next_out = out.as_mut_ptr() as *mut c_char;
        s.avail_out = out.len() as c_uint;
        assert_eq!(bz::BZ2_bzDecompress(&mut s), bz::BZ_STREAM_END);
        assert_eq!(bz::BZ2_bzDecompressEnd(&mut s), bz::BZ_OK);
    }
    out
}

fn main() {
    let text = "build-patch runs the patched build script. ".repeat(20);
    let packed = compress(text.as_bytes());
    let unpacked = decompress(&packed, text.len());
    assert_eq!(unpacked, text.as_bytes());
    println!(
        "bzip2 round trip: {} bytes -> {} bytes -> {} bytes",
        text.len(),
        packed.len(),
        unpacked.len()
    );

    // Which libbz2 is mapped into this process (Linux).
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    match maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .find(|path| path.contains("libbz2.so"))
    {
        Some(path) => println!(
            "ok: linked against the system libbz2 ({path}), as the patched build script says"
        ),
        None => println!("the bundled libbz2 is linked in statically: the build script is not patched"),
    }
}
