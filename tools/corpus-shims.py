#!/usr/bin/env python3
"""Scaffolded shims over the Debian corpus dev list.

For each `crate version source-package` line of the dev list, in order:

1. registry: a throwaway workspace whose library depends on `crate = "=VERSION"`,
   then `cargo check`;
2. shim, no patch: `cargo build-patch new crate@VERSION` plus a
   `[patch.crates-io]` entry, then `cargo check`;
3. shim, Debian's patches: the same with `--patch pkgs/<pkg>/patches/series`.

Steps 2 and 3 run only for crates that pass step 1 (the population is "builds
as a plain registry dependency today"). `cargo check`, not `cargo build`: it
type-checks the shim's crate (what the include, the crate attributes and the
manifest decide) at a fraction of the time; codegen is the same for a shim and
a registry crate. All runs share one CARGO_TARGET_DIR, and each shim workspace
starts from the registry run's Cargo.lock, so the three steps resolve the same
versions unless a patch changes a requirement.

Results are appended to a TSV (one line per crate); crates already in it are
skipped, so a run can be stopped and resumed. Full logs go next to it.

    nice -n 19 python3 tools/corpus-shims.py run [--limit N] [--only a,b]
    CORPUS_SHIMS_CARGO=build ...                 # `cargo build` instead of `cargo check`
    python3 tools/corpus-shims.py summary        # the markdown for docs/conformance.md

Standard library only (python3 >= 3.11, for tomllib).
"""

import argparse
import datetime
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

HOME = Path.home()
CORPUS = Path(os.environ.get("CORPUS_DATA", HOME / ".cache/debian-rust-patches"))
DEV_LIST = Path(__file__).resolve().parent.parent.parent / "shared/corpus/dev.txt"
STATE = Path(os.environ.get("CORPUS_SHIMS_DIR", HOME / ".cache/build-patch-corpus-shims"))
COLUMNS = [
    "crate", "version", "package", "build_rs", "proc_macro",
    "registry", "registry_error",
    "nopatch", "nopatch_error",
    "debian", "debian_error",
    "seconds", "date",
]
TIMEOUT = int(os.environ.get("CORPUS_SHIMS_TIMEOUT", "900"))
# `check` (the default) or `build` (codegen too; nothing links, the workspace is a library).
CARGO_STEP = os.environ.get("CORPUS_SHIMS_CARGO", "check")


def dev_list(path):
    out = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#"):
            out.append((parts[0], parts[1], parts[2]))
    return out


def read_results(path):
    rows = []
    if not path.exists():
        return rows
    lines = path.read_text().splitlines()
    for line in lines[1:]:
        if not line.strip():
            continue
        vals = line.split("\t")
        vals += [""] * (len(COLUMNS) - len(vals))
        rows.append(dict(zip(COLUMNS, vals)))
    # with --redo a crate appears again: its last line wins
    last = {(r["crate"], r["version"]): r for r in rows}
    return list(last.values())


def upstream_facts(pristine):
    """(has a build script, is a proc-macro) from the pristine manifest."""
    try:
        manifest = tomllib.loads((pristine / "Cargo.toml").read_text())
    except Exception:
        return ("?", "?")
    pkg = manifest.get("package", {})
    build = pkg.get("build")
    if build is False:
        has_build = False
    elif isinstance(build, str):
        has_build = (pristine / build).exists()
    else:
        has_build = (pristine / "build.rs").exists()
    lib = manifest.get("lib", {})
    proc_macro = bool(lib.get("proc-macro") or lib.get("proc_macro"))
    return ("yes" if has_build else "no", "yes" if proc_macro else "no")


def run(cmd, cwd, env, log):
    """Run cmd; return (status, stderr text). Status: ok, fail or timeout."""
    start = time.time()
    with open(log, "ab") as f:
        f.write(f"$ {' '.join(map(str, cmd))}  (in {cwd})\n".encode())
        f.flush()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, start_new_session=True)
        try:
            out, _ = p.communicate(timeout=TIMEOUT)
            status = "ok" if p.returncode == 0 else "fail"
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, _ = p.communicate()
            status = "timeout"
        f.write(out)
        f.write(f"[{status}, {time.time() - start:.0f}s]\n\n".encode())
    return status, out.decode("utf-8", "replace")


def first_error(text):
    """The first error line(s), on one line: cargo's own error, with the
    build script's stderr or rustc's first diagnostic when there is one."""
    lines = [l.rstrip() for l in text.splitlines()]
    for i, l in enumerate(lines):
        if l.strip().startswith("error: failed to run custom build command"):
            picked = [l.strip()]
            for j in range(i + 1, len(lines)):
                if lines[j].strip().startswith("--- stderr"):
                    picked += [x.strip() for x in lines[j + 1:j + 12]
                               if x.strip() and not x.strip().startswith(("warning:", "cargo:", "cargo::"))][:4]
                    break
            return " ⏎ ".join(picked).replace("\t", " ")[:600]
    picked = []
    for i, l in enumerate(lines):
        s = l.strip()
        if re.match(r"^(error|warning: Patch `)", s) or re.search(r": error(\[E\d+\])?:", s):
            if s.startswith(("error: could not compile", "error: aborting")) and picked:
                continue
            picked.append(s)
            # the "caused by" chain of cargo errors, or rustc's location
            for x in lines[i + 1:i + 8]:
                xs = x.strip()
                if xs.startswith("-->"):
                    picked.append(xs)
                    break
                if xs and not xs.startswith(("error", "|")) and x.startswith("  ") and xs != "Caused by:":
                    picked.append(xs)
                if len(picked) >= 4:
                    break
            if len(picked) >= 2:
                break
    if not picked:
        picked = [l.strip() for l in lines if l.strip()][-2:]
    causes = [i for i, l in enumerate(lines) if l.strip() == "Caused by:"]
    if causes and picked and not picked[0].startswith("error["):
        root = next((l.strip() for l in lines[causes[-1] + 1:] if l.strip()), "")
        if root and root not in picked:
            picked = picked[:1] + ["…", root]
    m = re.search(r"#\[deny\(([a-z0-9_]+)\)\]`.* on by default", text)
    if m:
        picked.append(f"[deny-by-default lint `{m.group(1)}`]")
    msg = " ⏎ ".join(picked)
    return msg.replace("\t", " ")[:600]


def errors_from_log(log):
    """{step: error} from a crate's log: the last failed command of each step."""
    out = {}
    if not log.exists():
        return out
    text = log.read_text(errors="replace")
    for sec in re.split(r"(?m)^\$ ", text)[1:]:
        head = sec.splitlines()[0] if sec else ""
        m = re.search(r"\(in .*/(registry|nopatch|debian)\)$", head)
        st = re.search(r"(?m)^\[(ok|fail|timeout), \d+s\]$", sec)
        if m and st and st.group(1) != "ok":
            out[m.group(1)] = first_error(sec)
    return out


def write_app(ws, crate, version, shim):
    (ws / "src").mkdir(parents=True, exist_ok=True)
    (ws / "src/lib.rs").write_text("")
    text = (
        '[package]\nname = "corpus-app"\nversion = "0.0.0"\nedition = "2021"\npublish = false\n\n'
        f'[workspace]\n\n[dependencies]\n"{crate}" = "={version}"\n'
    )
    if shim:
        text += f'\n[patch.crates-io]\n"{crate}" = {{ path = "patched/{crate}" }}\n'
    (ws / "Cargo.toml").write_text(text)


def shim_in_lock(ws, crate, version):
    try:
        lock = tomllib.loads((ws / "Cargo.lock").read_text())
    except Exception:
        return False
    return any(p.get("name") == crate and p.get("version") == version and "source" not in p
               for p in lock.get("package", []))


def shim_step(crate, version, ws, env, log, cli, bp_path, patches, lockfile):
    if ws.exists():
        shutil.rmtree(ws)
    ws.mkdir(parents=True)
    write_app(ws, crate, version, shim=True)
    if lockfile.exists():
        shutil.copy(lockfile, ws / "Cargo.lock")
    cmd = [cli, "build-patch", "new", f"{crate}@{version}", "--build-patch-path", bp_path]
    for p in patches:
        cmd += ["--patch", p]
    status, out = run(cmd, ws, env, log)
    if status != "ok":
        return ("new-" + status, first_error(out))
    status, out = run(["cargo", CARGO_STEP, "--lib"], ws, env, log)
    if status != "ok":
        return ("check-" + status, first_error(out))
    if "was not used in the crate graph" in out or not shim_in_lock(ws, crate, version):
        return ("unused", first_error(out))
    return ("ok", "")


def measure(crate, version, pkg, args, env):
    t0 = time.time()
    pristine = CORPUS / "pkgs" / pkg / "pristine"
    build_rs, proc_macro = upstream_facts(pristine)
    base = STATE / "ws" / f"{crate}-{version}"
    logs = STATE / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{crate}-{version}.log"
    log.write_bytes(b"")
    row = dict(crate=crate, version=version, package=pkg, build_rs=build_rs,
               proc_macro=proc_macro, registry="", registry_error="", nopatch="skipped",
               nopatch_error="", debian="skipped", debian_error="")

    reg = base / "registry"
    if reg.exists():
        shutil.rmtree(reg)
    reg.mkdir(parents=True)
    write_app(reg, crate, version, shim=False)
    status, out = run(["cargo", CARGO_STEP, "--lib"], reg, env, log)
    row["registry"] = status
    if status != "ok":
        row["registry_error"] = first_error(out)
    else:
        lock = reg / "Cargo.lock"
        row["nopatch"], row["nopatch_error"] = shim_step(
            crate, version, base / "nopatch", env, log, args.cli, args.build_patch_path, [], lock)
        series = CORPUS / "pkgs" / pkg / "patches" / "series"
        if series.exists():
            row["debian"], row["debian_error"] = shim_step(
                crate, version, base / "debian", env, log, args.cli, args.build_patch_path,
                [str(series)], lock)
        else:
            row["debian"] = "no-series"
    if not args.keep:
        shutil.rmtree(base, ignore_errors=True)
    row["seconds"] = f"{time.time() - t0:.0f}"
    row["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


def cmd_run(args):
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    if not results.exists():
        results.write_text("\t".join(COLUMNS) + "\n")
    done = {(r["crate"], r["version"]) for r in read_results(results)}
    only = set(args.only.split(",")) if args.only else None
    env = dict(os.environ)
    env.update(CARGO_TARGET_DIR=str(args.target_dir), CARGO_TERM_COLOR="never",
               CARGO_INCREMENTAL="0")
    env.pop("RUSTFLAGS", None)
    todo = [(c, v, p) for c, v, p in dev_list(Path(args.dev_list))
            if (only is None or c in only) and (args.redo or (c, v) not in done)]
    if args.limit is not None:
        todo = todo[:args.limit]
    for i, (crate, version, pkg) in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {crate} {version}", flush=True)
        row = measure(crate, version, pkg, args, env)
        with open(results, "a") as f:
            f.write("\t".join(row.get(c, "").replace("\t", " ").replace("\n", " ") for c in COLUMNS) + "\n")
        print(f"    registry={row['registry']} nopatch={row['nopatch']} debian={row['debian']}"
              f" ({row['seconds']}s)", flush=True)


# Causes, tried in order against a failure's error text: (label, pattern,
# whether an upstream build script may be the reason).
CAUSES = [
    ("empty patch file in the series (refused on purpose)", r"the file is empty", False),
    ("binary-only crate: no library to compile through a shim", r"has no library target", False),
    ("`extern crate` item refused inside `include!`", r"may not shadow existing macros|is already in scope|cannot shadow names passed with `--extern`", False),
    ("scaffold bug: a feature names an upstream dependency the shim lacks", r"neither a dependency nor another feature|includes `[^`/]+/[^`]+`, but `[^`]+` is not a dependency", False),
    ("scaffold bug: an upstream dependency keeps `path = \"../sibling\"` from an old publish", r"failed to get `[^`]+` as a dependency.*No such file", False),
    ("Debian patch does not apply at fuzz 0", r"does not apply|cannot apply|cannot be applied|hunk .*(failed|does not match)|no file to patch|not a patch", False),
    ("deny-by-default lint (a registry dependency gets `--cap-lints allow`)", r"deny-by-default lint", False),
    ("shim manifest out of sync with the patched upstream", r"build-patch sync|out of sync|does not match the shim", False),
    ("crate-level attributes missing from the shim", r"crate-level attribute|src/lib\.rs.*(missing|lacks)", False),
    ("upstream manifest cannot be read or mirrored", r"cannot parse|invalid manifest|failed to parse manifest|TOML parse", False),
    ("dependency resolution fails", r"failed to select a version|no matching package|failed to resolve patches|cyclic package dependency", False),
    ("shim not used in the graph", r"was not used in the crate graph", False),
    ("file generated by the build script missing (OUT_DIR, env!)", r"environment variable `[A-Z_]+` not defined|OUT_DIR|couldn't read", True),
    ("cfg or link set by the build script missing", r"cfg\(|unexpected_cfgs|cannot find .* in this scope|unresolved import|cannot find", True),
]

# Failures with Debian's patches of crates that build without them, by what
# the patches did; tried before CAUSES.
DEBIAN_CAUSES = [
    ("Debian's patched build script refuses to build without a system library this machine lacks",
     r"failed to run custom build command"),
    ("a Debian patch drops a dependency that code under a build-script cfg still uses "
     "(the cfg is set when no system library is found)",
     r"error\[E0463\]: can't find crate for"),
    ("builds without the patches; with them, rustc rejects the code "
     "(Debian's changed requirements resolve today to versions it does not compile with)",
     r"error\[E\d+\]"),
]


def classify(row, step):
    err = row[f"{step}_error"]
    status = row[step]
    build = row["build_rs"] == "yes"
    if status.endswith("timeout"):
        return "timeout"
    if status == "unused":
        return "shim not used in the graph"
    if step == "debian" and row["nopatch"] == "ok" and status == "check-fail" \
            and not re.search(r"deny-by-default lint", err):
        for label, pat in DEBIAN_CAUSES:
            if re.search(pat, err):
                return label
    for label, pat, build_related in CAUSES:
        if re.search(pat, err, re.I):
            return ("has build.rs: " if build and build_related else "") + label
    return ("has build.rs: " if build else "") + "other (" + status + ")"


def pct(a, b):
    return f"{100 * a / b:.0f}%" if b else "-"


def shorten(err):
    err = re.sub(r"/\S*/out/build-patch/", "OUT_DIR/build-patch/", err)
    err = re.sub(r"/\S*/registry/src/[^/]+/", "REGISTRY/", err)
    err = re.sub(r"/\S*/build-patch-corpus-shims/ws/[^/]+/", "WS/", err)
    return err


def oracle_note(pkg):
    """How GNU patch (default fuzz) fares with the package's series."""
    try:
        import json
        res = json.loads((CORPUS / "oracle" / pkg / "result.json").read_text())
    except Exception:
        return ""
    st = [p.get("status", "?") for p in res.get("patches", [])]
    bad = sorted({x for x in st if x not in ("clean", "offset")})
    return f" (GNU patch: {', '.join(bad)})" if bad else " (GNU patch: clean)"


def cmd_summary(args):
    rows = read_results(Path(args.results))
    for r in rows:
        for step, err in errors_from_log(STATE / "logs" / f"{r['crate']}-{r['version']}.log").items():
            if r.get(step) not in ("ok", ""):
                r[step + "_error"] = err
    dev = dev_list(Path(args.dev_list))
    reg_ok = [r for r in rows if r["registry"] == "ok"]
    recheck = {}
    if args.recheck:
        recheck = {(r["crate"], r["version"]): r for r in read_results(Path(args.recheck))}
    out = []
    w = out.append
    w(f"Measured: {len(rows)} of the {len(dev)} crates of the dev list (in list order"
      + (f", up to `{rows[-1]['crate']}`" if rows and len(rows) < len(dev) else "") + ").\n")
    w("| step | crates | builds | share |")
    w("|---|---|---|---|")
    w(f"| registry dependency `crate = \"=VERSION\"` | {len(rows)} | {len(reg_ok)} | {pct(len(reg_ok), len(rows))} |")
    for step, label in (("nopatch", "shim, no patch"), ("debian", "shim, Debian's patches")):
        ok = [r for r in reg_ok if r[step] == "ok"]
        w(f"| {label} | {len(reg_ok)} | {len(ok)} | {pct(len(ok), len(reg_ok))} |")
        nb = [r for r in reg_ok if r["build_rs"] == "no"]
        okb = [r for r in nb if r[step] == "ok"]
        w(f"| {label}, crates without a build script | {len(nb)} | {len(okb)} | {pct(len(okb), len(nb))} |")
    w("")
    for step, label in (("nopatch", "Shim, no patch"), ("debian", "Shim, Debian's patches")):
        fails = [r for r in reg_ok if r[step] != "ok"]
        w(f"### {label}: {len(fails)} failures\n")
        if recheck:
            again = [recheck[(r["crate"], r["version"])] for r in fails if (r["crate"], r["version"]) in recheck]
            fixed = [a for a in again if a[step] == "ok"]
            w(f"Measured again with {args.recheck_label}: {len(again)} of them; {len(fixed)} build there.\n")
        groups = {}
        for r in fails:
            key = classify(r, step)
            groups.setdefault(key, []).append(r)
        for key, rs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
            def name(r):
                again = recheck.get((r["crate"], r["version"]))
                return f"{r['crate']} {r['version']}" + (f" ({args.recheck_label}: {again[step]})" if again else "")
            w(f"- **{key}** ({len(rs)}): " + ", ".join(name(r) for r in rs))
            for r in rs[:args.examples]:
                note = oracle_note(r["package"]) if "patch does not apply" in key else ""
                w(f"  - `{r['crate']} {r['version']}`{note}: {shorten(r[step + '_error'])[:300]}")
        w("")
    reg_fail = [r for r in rows if r["registry"] != "ok"]
    if reg_fail:
        w(f"Not in the population (fail as a registry dependency, {len(reg_fail)}): "
          + ", ".join(f"{r['crate']} {r['version']}" for r in reg_fail) + ".")
    print("\n".join(out))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("run", "summary"):
        p = sub.add_parser(name)
        p.add_argument("--results", default=str(STATE / "results.tsv"))
        p.add_argument("--dev-list", default=str(DEV_LIST))
        if name == "run":
            p.add_argument("--cli", default=str(STATE / "bin/cargo-build-patch"),
                           help="the cargo-build-patch binary (a stable copy)")
            p.add_argument("--build-patch-path", default=str(Path(__file__).resolve().parent.parent),
                           help="the build-patch library the shims depend on")
            p.add_argument("--target-dir", default=str(STATE / "target"))
            p.add_argument("--limit", type=int)
            p.add_argument("--only", help="comma-separated crate names")
            p.add_argument("--redo", action="store_true", help="measure crates already in the results again")
            p.add_argument("--keep", action="store_true", help="keep the workspaces")
        else:
            p.add_argument("--examples", type=int, default=3)
            p.add_argument("--recheck", help="results of a later run over (some of) the failures")
            p.add_argument("--recheck-label", default="later")
    args = ap.parse_args()
    if args.cmd == "run":
        cmd_run(args)
    else:
        cmd_summary(args)


if __name__ == "__main__":
    main()
