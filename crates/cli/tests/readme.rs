//! The README's main command, `cargo run --release -- predict …`, needs cargo to pick
//! one binary from a fresh clone: the workspace's default members must hold exactly
//! one package with one binary, and it must be cdspred. The test command also runs the
//! README's line literally in a fresh clone (scripts/test_readme.sh); this test is the
//! fast check of the same promise inside `cargo test`.

mod common;

use std::process::Command;

#[test]
fn readme_main_command_picks_the_cdspred_binary() {
    let readme = std::fs::read_to_string(common::repo().join("README.md")).unwrap();
    let cmd = readme
        .lines()
        .find(|l| l.starts_with("cargo run"))
        .expect("README names a cargo run command");
    assert!(cmd.starts_with("cargo run --release -- predict"), "{cmd}");
    let out = Command::new(env!("CARGO"))
        .current_dir(common::repo())
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let defaults: Vec<&str> = meta["workspace_default_members"]
        .as_array()
        .expect("cargo reports default members")
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let bins: Vec<String> = meta["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| defaults.contains(&p["id"].as_str().unwrap()))
        .flat_map(|p| p["targets"].as_array().unwrap().clone())
        .filter(|t| t["kind"].as_array().unwrap().iter().any(|k| k == "bin"))
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(bins, ["cdspred"], "default members {defaults:?}");
    // The file it predicts exists.
    let words: Vec<&str> = cmd.split_whitespace().collect();
    let file = words[words.iter().position(|w| *w == "predict").unwrap() + 1];
    assert!(common::repo().join(file).exists(), "{file}");
}
