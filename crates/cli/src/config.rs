//! Config files with Hydra-style `key=value` overrides.

use std::path::Path;

use anyhow::{anyhow, bail, Result};

/// A command-line probability (0 to 1); anything else is a usage error (exit 2).
pub fn probability(s: &str) -> Result<f32, String> {
    let v: f32 = s
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a number"))?;
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("{v} is not between 0 and 1"))
    }
}

/// Loads a TOML file, applies `key.sub=value` overrides (values parsed as TOML, bare
/// words as strings) and rejects unknown keys with a suggestion.
pub fn load_with_overrides<T: serde::de::DeserializeOwned + serde::Serialize>(
    path: &Path,
    overrides: &[String],
    template: &T,
) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let mut table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow!("{}: {e}", path.display()))?;
    let known: toml::Table = toml::Table::try_from(template).map_err(|e| anyhow!("{e}"))?;
    for key in table.keys() {
        if !known.contains_key(key) {
            bail!(
                "{}: unknown key {key:?}{}",
                path.display(),
                suggest(key, &known)
            );
        }
    }
    for ov in overrides {
        let (key, value) = ov
            .split_once('=')
            .ok_or_else(|| anyhow!("override {ov:?} is not key=value"))?;
        let path_keys: Vec<&str> = key.split('.').collect();
        let mut cur = &mut table;
        let mut known_cur = &known;
        for (i, k) in path_keys.iter().enumerate() {
            if !known_cur.contains_key(*k) {
                bail!(
                    "override {ov:?}: unknown key {k:?}{}",
                    suggest(k, known_cur)
                );
            }
            if i + 1 == path_keys.len() {
                let v: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .unwrap_or_else(|| toml::Value::String(value.to_string()));
                cur.insert(k.to_string(), v);
            } else {
                known_cur = known_cur[*k]
                    .as_table()
                    .ok_or_else(|| anyhow!("override {ov:?}: {k:?} is not a table"))?;
                cur = cur
                    .entry(k.to_string())
                    .or_insert_with(|| toml::Value::Table(Default::default()))
                    .as_table_mut()
                    .ok_or_else(|| anyhow!("override {ov:?}: {k:?} is not a table"))?;
            }
        }
    }
    // Keys missing from the file take the template's defaults.
    for (k, v) in known {
        table.entry(k).or_insert(v);
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|e| anyhow!("{}: {e}", path.display()))
}

fn suggest(key: &str, known: &toml::Table) -> String {
    known
        .keys()
        .map(|k| (edit_distance(key, k), k))
        .min()
        .filter(|(d, _)| *d <= 3)
        .map(|(_, k)| format!(" (did you mean {k:?}?)"))
        .unwrap_or_else(|| {
            format!(
                " (known: {})",
                known.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + (ca != *cb) as usize)
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}
