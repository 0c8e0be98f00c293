//! `compare`: times a baseline and its candidates side by side, interleaved.
//!
//! The machines these benchmarks run on are shared: the load changes from one
//! second to the next. hyperfine times all runs of one command, then all runs
//! of the next, so a change of load between the two blocks shows as a ratio.
//! Here every round runs each command once, in an order rotated from round to
//! round, and each candidate's figure is the median over rounds of its time
//! divided by the baseline's time *in the same round*. Each run's CPU time
//! and peak memory come from `wait4`: on a loaded machine CPU time varies far
//! less than wall time.

use std::process::{Command, Stdio};
use std::time::Instant;

pub struct Bench {
    pub label: String,
    pub prepare: String,
    pub command: String,
}

pub struct Options {
    pub name: String,
    pub runs: usize,
    pub warmup: usize,
    pub may_fail: bool,
}

/// Runs the rounds and returns the Markdown report; the first bench is the
/// baseline.
pub fn compare(opts: &Options, benches: &[Bench]) -> Result<String, String> {
    let shell = shell_overhead()?;
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); benches.len()];
    for round in 0..opts.warmup + opts.runs {
        for k in 0..benches.len() {
            let i = (k + round) % benches.len();
            let b = &benches[i];
            if !b.prepare.is_empty() {
                run(&b.prepare, false).map_err(|e| format!("prepare of `{}`: {e}", b.label))?;
            }
            let mut s =
                run(&b.command, opts.may_fail).map_err(|e| format!("`{}`: {e}", b.label))?;
            if round >= opts.warmup {
                s.wall = (s.wall - shell.0).max(0.0);
                s.cpu = (s.cpu - shell.1).max(0.0);
                samples[i].push(s);
            }
        }
        eprint!(".");
    }
    eprintln!();
    Ok(report(opts, benches, &samples))
}

/// One timed run of a command.
#[derive(Clone, Copy)]
struct Sample {
    /// Wall-clock seconds.
    wall: f64,
    /// User plus system CPU seconds of the command and everything it waited
    /// for (for `cargo build`: every rustc).
    cpu: f64,
    /// Peak resident set size in KiB of the largest single process.
    peak_kib: u64,
}

/// Runs `sh -c command`, quietly, and returns what it measured. The child is
/// reaped with `wait4`, whose resource usage covers the shell and everything
/// it waited for, with microsecond CPU times (GNU time prints hundredths).
fn run(command: &str, may_fail: bool) -> Result<Sample, String> {
    let err_path =
        std::env::temp_dir().join(format!("build-patch-bench-{}.stderr", std::process::id()));
    let err_file = std::fs::File::create(&err_path).map_err(|e| e.to_string())?;
    let start = Instant::now();
    let child = Command::new("sh")
        .args(["-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn()
        .map_err(|e| format!("cannot run sh: {e}"))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain data, valid when zeroed; `wait4` writes it
    // and `status` for our own child, which `Child` never waits for itself.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(format!("wait4: {e}"));
        }
    }
    let wall = start.elapsed().as_secs_f64();
    drop(child);
    let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    if !ok && !may_fail {
        return Err(format!(
            "failed (wait status {status}):\n{}",
            std::fs::read_to_string(&err_path).unwrap_or_default()
        ));
    }
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Ok(Sample {
        wall,
        cpu: seconds(usage.ru_utime) + seconds(usage.ru_stime),
        // Linux reports it in KiB.
        peak_kib: usage.ru_maxrss as u64,
    })
}

/// The median wall and CPU time of a shell that does nothing, subtracted
/// from every measurement (as hyperfine subtracts its shell's).
fn shell_overhead() -> Result<(f64, f64), String> {
    let samples: Vec<Sample> = (0..20)
        .map(|_| run("true", false))
        .collect::<Result<_, _>>()?;
    let mut wall: Vec<f64> = samples.iter().map(|s| s.wall).collect();
    let mut cpu: Vec<f64> = samples.iter().map(|s| s.cpu).collect();
    Ok((median(&mut wall), median(&mut cpu)))
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}

fn quartiles(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let at = |q: f64| s[((s.len() - 1) as f64 * q).round() as usize];
    (at(0.25), at(0.75))
}

fn report(opts: &Options, benches: &[Bench], samples: &[Vec<Sample>]) -> String {
    let mut out = format!(
        "### {}\n\n{} rounds (after {} warm-up), each command once per round in rotated order. \
         A ratio is the median over rounds of the command's figure divided by the baseline's \
         in the same round (quartiles in brackets). CPU is user + system time of the command \
         and everything it waited for; peak RSS is the largest single process's, the highest \
         over the rounds.\n\n\
         | command | wall (median) | wall ratio | CPU (median) | CPU ratio | peak RSS |\n\
         | --- | ---: | ---: | ---: | ---: | ---: |\n",
        opts.name, opts.runs, opts.warmup
    );
    let base = &samples[0];
    for (i, (b, s)) in benches.iter().zip(samples).enumerate() {
        let wall: Vec<f64> = s.iter().map(|x| x.wall).collect();
        let cpu: Vec<f64> = s.iter().map(|x| x.cpu).collect();
        let peak = s.iter().map(|x| x.peak_kib).max().unwrap_or(0);
        let ratio = |f: fn(&Sample) -> f64| {
            if i == 0 {
                return "baseline".to_string();
            }
            let mut r: Vec<f64> = s
                .iter()
                .zip(base)
                .filter(|(_, b)| f(b) > 0.0)
                .map(|(c, b)| f(c) / f(b))
                .collect();
            if r.is_empty() {
                return "–".to_string();
            }
            let (q1, q3) = quartiles(&r);
            format!("**{:.3}** ({q1:.3} – {q3:.3})", median(&mut r))
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.1} MiB |\n",
            b.label,
            ms(median(&mut wall.clone())),
            ratio(|x| x.wall),
            ms(median(&mut cpu.clone())),
            ratio(|x| x.cpu),
            peak as f64 / 1024.0,
        ));
    }
    out
}

fn ms(s: f64) -> String {
    if s >= 10.0 {
        format!("{s:.1} s")
    } else {
        format!("{:.1} ms", s * 1000.0)
    }
}
