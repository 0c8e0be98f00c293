//! `compare`: times a baseline and its candidates side by side, interleaved.
//!
//! The machines these benchmarks run on are shared: the load changes from one
//! second to the next. hyperfine times all runs of one command, then all runs
//! of the next, so a change of load between the two blocks shows as a ratio.
//! Here every round runs each command once, in an order rotated from round to
//! round, and each candidate's figure is the median over rounds of its time
//! divided by the baseline's time *in the same round*.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); benches.len()];
    for round in 0..opts.warmup + opts.runs {
        for k in 0..benches.len() {
            let i = (k + round) % benches.len();
            let b = &benches[i];
            if !b.prepare.is_empty() {
                run(&b.prepare, false).map_err(|e| format!("prepare of `{}`: {e}", b.label))?;
            }
            let t = run(&b.command, opts.may_fail).map_err(|e| format!("`{}`: {e}", b.label))?;
            if round >= opts.warmup {
                times[i].push((t.as_secs_f64() - shell).max(0.0));
            }
        }
        eprint!(".");
    }
    eprintln!();
    Ok(report(opts, benches, &times))
}

/// Runs `sh -c command`, quietly, and returns its wall time.
fn run(command: &str, may_fail: bool) -> Result<Duration, String> {
    let start = Instant::now();
    let out = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let t = start.elapsed();
    if !out.status.success() && !may_fail {
        return Err(format!(
            "failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(t)
}

/// The median time of starting a shell that does nothing, subtracted from
/// every measurement (as hyperfine does).
fn shell_overhead() -> Result<f64, String> {
    let mut t: Vec<f64> = (0..20)
        .map(|_| run("true", false).map(|d| d.as_secs_f64()))
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

fn report(opts: &Options, benches: &[Bench], times: &[Vec<f64>]) -> String {
    let mut out = format!(
        "### {}\n\n{} rounds (after {} warm-up), each command once per round in rotated order.\n\n\
         | command | median | mean | min | max | ratio to baseline (median of per-round ratios) | quartiles of the ratio |\n\
         | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
        opts.name, opts.runs, opts.warmup
    );
    let base = &times[0];
    for (b, t) in benches.iter().zip(times) {
        let mut sorted = t.clone();
        let med = median(&mut sorted);
        let mean = t.iter().sum::<f64>() / t.len() as f64;
        let mut ratios: Vec<f64> = t.iter().zip(base).map(|(c, b)| c / b).collect();
        let (q1, q3) = quartiles(&ratios);
        let ratio = median(&mut ratios);
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            b.label,
            ms(med),
            ms(mean),
            ms(sorted[0]),
            ms(sorted[sorted.len() - 1]),
            if std::ptr::eq(t, base) {
                "1 (baseline)".to_string()
            } else {
                format!("**{ratio:.3}**")
            },
            if std::ptr::eq(t, base) {
                String::new()
            } else {
                format!("{q1:.3} – {q3:.3}")
            },
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
