//! The reference pages in docs/ are generated from the binary; they must be current
//! (regenerate with scripts/gen_docs.sh), and must cover every command and route.

mod common;

use common::{cdspred, repo};

fn check(args: &[&str], file: &str) -> String {
    let generated = cdspred(args);
    let committed = std::fs::read_to_string(repo().join(file)).unwrap();
    assert!(
        generated == committed,
        "{file} is out of date: run scripts/gen_docs.sh"
    );
    generated
}

#[test]
fn cli_reference_is_current_and_complete() {
    let md = check(&["docs", "cli"], "docs/cli.md");
    for cmd in [
        "cdspred predict",
        "cdspred data build",
        "cdspred train",
        "cdspred eval",
        "cdspred serve",
        "cdspred drift",
        "cdspred model promote",
        "cdspred shard split",
        "cdspred shard merge",
    ] {
        assert!(md.contains(&format!("`{cmd}`")), "{cmd} missing");
    }
    assert!(md.contains("| `--table` |"));
}

#[test]
fn api_reference_is_current_and_complete() {
    let json = check(&["docs", "openapi"], "docs/openapi.json");
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let md = check(&["docs", "api"], "docs/api.md");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.contains_key("/v1/predict"));
    for (path, ops) in paths {
        for method in ops.as_object().unwrap().keys() {
            let heading = format!("## `{} {path}`", method.to_uppercase());
            assert!(md.contains(&heading), "{heading} missing");
        }
    }
    assert!(md.contains("| 429 |"), "queue-full answer documented");
}
