//! One user of shlex: builds a shell command line for `echo`.
pub fn echo_command(word: &str) -> String {
    format!("echo {}", shlex::quote(word))
}
