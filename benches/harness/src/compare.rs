//! `compare`: times a baseline and its candidates side by side, interleaved.
//!
//! The machines these benchmarks run on are shared: the load changes from one
//! second to the next. hyperfine times all runs of one command, then all runs
//! of the next, so a change of load between the two blocks shows as a ratio.
//! Here every round runs each command once, in an order rotated from round to
//! round, and each candidate's figure is the median over rounds of its time
//! divided by the baseline's time *in the same round*. Each run is also
//! timed by GNU time for its CPU time and peak memory: on a loaded machine
//! CPU time varies far less than wall time.

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
                s.wall = (s.wall - shell).max(0.0);
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

/// Runs `sh -c command` under GNU time, quietly, and returns what it
/// measured.
fn run(command: &str, may_fail: bool) -> Result<Sample, String> {
    let start = Instant::now();
    let stats = std::env::temp_dir().join(format!("build-patch-bench-{}.time", std::process::id()));
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%e %U %S %M")
        .arg("-o")
        .arg(&stats)
        .args(["sh", "-c", command])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run /usr/bin/time: {e}"))?;
    let wall = start.elapsed().as_secs_f64();
    if !out.status.success() && !may_fail {
        return Err(format!(
            "failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let text = std::fs::read_to_string(&stats).map_err(|e| e.to_string())?;
    // GNU time writes "Command exited with non-zero status N" first when the
    // command failed: the figures are on the last line.
    let fields: Vec<f64> = text
        .lines()
        .last()
        .unwrap_or_default()
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(f64::NAN))
        .collect();
    match fields[..] {
        // GNU time's own wall figure has a resolution of 10 ms: not used.
        [_, user, sys, peak] => Ok(Sample {
            wall,
            cpu: user + sys,
            peak_kib: peak as u64,
        }),
        _ => Err(format!("cannot read GNU time's output: {text:?}")),
    }
}

/// The median wall time of starting GNU time and a shell that do nothing,
/// subtracted from every measurement (as hyperfine subtracts its shell's).
fn shell_overhead() -> Result<f64, String> {
    let mut t: Vec<f64> = (0..20)
        .map(|_| run("true", false).map(|s| s.wall))
        .collect::<Result<_, _>>()?;
    Ok(median(&mut t))
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
