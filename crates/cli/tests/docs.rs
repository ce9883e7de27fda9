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

/// Every `cdspred_crate::…::Name` the architecture page names is still defined in that
/// crate (a `pub` item of that name in its sources), so the page cannot silently go
/// stale when code moves.
#[test]
fn architecture_page_names_items_that_exist() {
    let page = std::fs::read_to_string(repo().join("docs/architecture.md")).unwrap();
    let mut named = 0;
    for span in page.split('`').skip(1).step_by(2) {
        let Some(rest) = span.strip_prefix("cdspred_") else {
            continue;
        };
        let parts: Vec<&str> = rest.split("::").collect();
        let krate = parts[0];
        let item = *parts.last().unwrap();
        assert!(
            ["core", "data", "model", "train", "serve", "drift"].contains(&krate),
            "unknown crate in {span}"
        );
        let dir = repo().join("crates").join(krate).join("src");
        let mut found = false;
        for e in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(e.unwrap().path()).unwrap();
            found |= [
                "fn", "struct", "enum", "type", "trait", "const", "mod", "async fn",
            ]
            .iter()
            .any(|k| {
                text.contains(&format!("pub {k} {item}"))
                    || text.contains(&format!("pub(crate) {k} {item}"))
            });
        }
        assert!(
            found,
            "docs/architecture.md names {span}, which {dir:?} does not define"
        );
        named += 1;
    }
    assert!(named >= 20, "only {named} items named");
}
