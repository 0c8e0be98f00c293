//! paste builds identifiers at compile time. With the patch, `:snake` keeps
//! an acronym together, so the functions below are named `new_http_server`
//! and `new_io_error`; with paste 1.0.15 as published they would be
//! `new_h_t_t_p_server` and `new_i_o_error`, and this would not compile.

use paste::paste;

struct HTTPServer;
struct IOError;
struct FooBar;

/// One constructor per type, named after the type in snake case, and the
/// list of the names paste wrote.
macro_rules! constructors {
    ($($ty:ident),*) => {
        paste! {
            $(
                fn [<new_ $ty:snake>]() -> $ty {
                    $ty
                }
            )*
            const NAMES: &[(&str, &str)] = &[$((stringify!($ty), stringify!([<new_ $ty:snake>]))),*];
        }
    };
}

constructors!(HTTPServer, IOError, FooBar);

fn main() {
    // Calling them by these names is the proof: the code compiles.
    let (HTTPServer, IOError, FooBar) = (new_http_server(), new_io_error(), new_foo_bar());
    for (ty, function) in NAMES {
        println!("{ty} -> fn {function}()");
    }
    println!("ok: the patched paste 1.0.15 snake-cases acronyms as one word");
}
