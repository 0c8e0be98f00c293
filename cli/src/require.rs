//! Requirement patches: a patch to a crate's `Cargo.toml` that changes what
//! it requires of one dependency, the most common patch of all (more than
//! half of Debian's crate patches are this kind). `unify` writes one per
//! dependent that would pull in a second copy of a shared crate; `new
//! --require` writes one for a single shim.

use anyhow::{anyhow, Result};
use cargo_metadata::semver::{Version, VersionReq};
use toml_edit::{DocumentMut, Item};

/// The dependency tables of a manifest that are part of the graph Cargo
/// builds for a registry crate (dev-dependencies are not).
const KINDS: &[&str] = &["dependencies", "build-dependencies", "build_dependencies"];

/// `manifest` with every requirement on the package `dep` (normal, build
/// and target-specific dependencies, renamed ones included) set to `req`,
/// formatting kept; and the requirements it had. `None` when it names no
/// such dependency.
pub fn set_requirement(
    manifest: &str,
    dep: &str,
    req: &str,
) -> Result<Option<(String, Vec<String>)>> {
    let mut doc: DocumentMut = manifest
        .parse()
        .map_err(|e| anyhow!("cannot parse the manifest: {e}"))?;
    let mut old = Vec::new();
    let mut set = |table: &mut dyn toml_edit::TableLike| {
        for kind in KINDS {
            let Some(deps) = table.get_mut(kind).and_then(Item::as_table_like_mut) else {
                continue;
            };
            for (key, item) in deps.iter_mut() {
                let package = item
                    .get("package")
                    .and_then(Item::as_str)
                    .unwrap_or(key.get());
                if package != dep {
                    continue;
                }
                if let Some(s) = item.as_str() {
                    old.push(s.to_string());
                    let decor = item.as_value().map(|v| v.decor().clone());
                    *item = toml_edit::value(req);
                    if let (Some(d), Some(v)) = (decor, item.as_value_mut()) {
                        *v.decor_mut() = d;
                    }
                } else if let Some(t) = item.as_table_like_mut() {
                    old.push(
                        t.get("version")
                            .and_then(Item::as_str)
                            .unwrap_or("*")
                            .to_string(),
                    );
                    match t.get_mut("version") {
                        Some(v) => {
                            let decor = v.as_value().map(|v| v.decor().clone());
                            *v = toml_edit::value(req);
                            if let (Some(d), Some(v)) = (decor, v.as_value_mut()) {
                                *v.decor_mut() = d;
                            }
                        }
                        None => {
                            t.insert("version", toml_edit::value(req));
                        }
                    }
                }
            }
        }
    };
    set(doc.as_table_mut());
    if let Some(targets) = doc.get_mut("target").and_then(Item::as_table_like_mut) {
        for (_, t) in targets.iter_mut() {
            if let Some(t) = t.as_table_like_mut() {
                set(t);
            }
        }
    }
    if old.is_empty() {
        return Ok(None);
    }
    Ok(Some((doc.to_string(), old)))
}

/// A requirement patch for `krate version`'s `Cargo.toml` (its text as the
/// shim stages it: `manifest`), setting what it requires of `dep` to `req`,
/// with a DEP-3 header saying what and why. `None` when the manifest already
/// says `req` everywhere, or names no `dep`.
pub fn requirement_patch(
    krate: &str,
    version: &str,
    manifest: &str,
    dep: &str,
    req: &str,
    why: &str,
) -> Result<Option<String>> {
    let Some((patched, old)) = set_requirement(manifest, dep, req)? else {
        return Ok(None);
    };
    let diff = crate::diff::diff_text("Cargo.toml", manifest, &patched)?;
    if diff.is_empty() {
        return Ok(None);
    }
    let mut was: Vec<String> = old.iter().map(|o| format!("`{o}`")).collect();
    was.dedup();
    Ok(Some(format!(
        "Description: require {dep} `{req}` (was {})\n {why}\nApplies-to: {krate} {version}\n\
         Generated-by: cargo build-patch\n\n{diff}",
        was.join(", ")
    )))
}

/// The file name of a requirement patch: `krate-version-require-dep-req.patch`.
pub fn patch_file_name(krate: &str, version: &str, dep: &str, req: &str) -> String {
    let req: String = req
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{krate}-{version}-require-{dep}-{req}.patch")
}

/// Whether `req` keeps Cargo within the semver series of `target`: it
/// admits a version of the series (not necessarily `target` itself:
/// `^0.11.2` and `=0.11.2` keep to the series of 0.11.0, and setting them
/// to `0.11` would only loosen them), and no version of another series (the
/// next breaking release, or the highest of the series before).
pub fn keeps_to_series(req: &VersionReq, target: &Version) -> bool {
    let in_series = |v: &Version| crate::graph::compatible(v, target);
    let admits_series = std::iter::once(target.clone())
        .chain(std::iter::once(series_top(target)))
        .chain(named(req))
        .any(|v| in_series(&v) && req.matches(&v));
    if !admits_series {
        return false;
    }
    let next = if target.major > 0 {
        Version::new(target.major + 1, 0, 0)
    } else if target.minor > 0 {
        Version::new(0, target.minor + 1, 0)
    } else {
        Version::new(0, 0, target.patch + 1)
    };
    let before = if target.major > 1 {
        Some(Version::new(target.major - 1, u64::MAX, u64::MAX))
    } else if target.major == 1 {
        Some(Version::new(0, u64::MAX, u64::MAX))
    } else if target.minor > 0 {
        Some(Version::new(0, target.minor - 1, u64::MAX))
    } else {
        target.patch.checked_sub(1).map(|p| Version::new(0, 0, p))
    };
    !req.matches(&next) && !before.is_some_and(|b| req.matches(&b))
}

/// Whether `req` admits only versions above the series of `target` (`^0.15`
/// under `unify …@0.11`): setting it to the series moves the dependent back
/// to a release older than its code was written for.
pub fn above_series(req: &VersionReq, target: &Version) -> bool {
    let top = series_top(target);
    let low = [Version::new(0, 0, 0), target.clone(), top.clone()];
    let admits_low = low
        .into_iter()
        .chain(named(req))
        .any(|v| v <= top && req.matches(&v));
    !admits_low && named(req).any(|v| v > top && req.matches(&v))
}

/// The highest version of the semver series of `target`.
fn series_top(target: &Version) -> Version {
    if target.major > 0 {
        Version::new(target.major, u64::MAX, u64::MAX)
    } else if target.minor > 0 {
        Version::new(0, target.minor, u64::MAX)
    } else {
        target.clone()
    }
}

/// The versions the comparators of `req` name (`>=0.14, <=0.15` → 0.14.0, 0.15.0).
fn named(req: &VersionReq) -> impl Iterator<Item = Version> + '_ {
    req.comparators
        .iter()
        .map(|c| Version::new(c.major, c.minor.unwrap_or(0), c.patch.unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_are_set_everywhere_keeping_the_rest() {
        let manifest = "[package]\nname = \"a\"\nversion = \"1.0.0\"\n\n\
            [dependencies]\nshared = \">=0.8.0\" # old\nother = \"1\"\n\n\
            [dependencies.renamed]\npackage = \"shared\"\nversion = \"*\"\n\n\
            [target.'cfg(unix)'.build-dependencies]\nshared = { version = \"~0.10\", features = [\"x\"] }\n\n\
            [dev-dependencies]\nshared = \"0.1\"\n";
        let (text, old) = set_requirement(manifest, "shared", "0.11")
            .unwrap()
            .unwrap();
        assert_eq!(old, [">=0.8.0", "*", "~0.10"]);
        assert!(
            text.contains("shared = \"0.11\" # old\nother = \"1\""),
            "{text}"
        );
        assert!(
            text.contains("package = \"shared\"\nversion = \"0.11\""),
            "{text}"
        );
        assert!(
            text.contains("shared = { version = \"0.11\", features = [\"x\"] }"),
            "{text}"
        );
        assert!(
            text.contains("[dev-dependencies]\nshared = \"0.1\""),
            "{text}"
        );
        assert!(set_requirement(manifest, "absent", "1").unwrap().is_none());
    }

    #[test]
    fn series() {
        let v = |s: &str| Version::parse(s).unwrap();
        let r = |s: &str| VersionReq::parse(s).unwrap();
        let t = v("0.11.0");
        assert!(keeps_to_series(&r("0.11"), &t));
        assert!(keeps_to_series(&r("^0.11.0"), &t));
        assert!(keeps_to_series(&r("=0.11.0"), &t));
        assert!(!keeps_to_series(&r(">=0.8.0"), &t));
        assert!(!keeps_to_series(&r("*"), &t));
        assert!(!keeps_to_series(&r("~0.10"), &t));
        assert!(!keeps_to_series(&r("^0.10"), &t));
        assert!(!keeps_to_series(&r(">=0.10, <0.12"), &t));
        // Within the series, above the version asked for: kept as it is.
        assert!(keeps_to_series(&r("^0.11.2"), &t));
        assert!(keeps_to_series(&r("=0.11.2"), &t));
        assert!(keeps_to_series(&r("~0.11.2"), &t));
        assert!(!keeps_to_series(&r(">=0.11.2"), &t));
        assert!(!keeps_to_series(&r("^0.12"), &t));
        assert!(above_series(&r("^0.15"), &t));
        assert!(above_series(&r(">=0.14, <=0.15"), &t));
        assert!(!above_series(&r(">=0.8.0"), &t));
        assert!(!above_series(&r("^0.10"), &t));
        assert!(!above_series(&r("*"), &t));
        let t = v("1.4.0");
        assert!(keeps_to_series(&r("1"), &t));
        assert!(keeps_to_series(&r("1.2"), &t));
        assert!(!keeps_to_series(&r(">=0.9"), &t));
        assert!(keeps_to_series(&r("1.6"), &t));
        assert!(!keeps_to_series(&r("2"), &t));
    }
}
