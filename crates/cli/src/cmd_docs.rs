//! `cdspred docs cli|openapi|api`: reference pages generated from the CLI definition
//! and the server's OpenAPI document, for the mdBook under `docs/` (a test checks the
//! committed pages are current: `scripts/gen_docs.sh` rewrites them).

use std::fmt::Write as _;

use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum DocsCommand {
    /// The CLI reference (Markdown), from the command definitions.
    Cli,
    /// The OpenAPI document (JSON) the server serves at /openapi.json.
    Openapi,
    /// The HTTP API reference (Markdown), from the OpenAPI document.
    Api,
}

pub fn run(c: DocsCommand, cli: clap::Command) -> Result<()> {
    let text = match c {
        DocsCommand::Cli => cli_markdown(cli),
        DocsCommand::Openapi => cdspred_serve::openapi_json() + "\n",
        DocsCommand::Api => api_markdown(&serde_json::from_str(&cdspred_serve::openapi_json())?),
    };
    crate::output::print_stdout(&text)
}

/// Text for a Markdown table cell: pipes escaped, one line, no raw HTML.
fn escape(s: &str) -> String {
    html(s).replace('|', "\\|").replace('\n', " ")
}

/// Angle brackets as entities, so `<placeholders>` are not taken for HTML tags.
fn html(s: &str) -> String {
    s.replace('<', "&lt;").replace('>', "&gt;")
}

fn cli_markdown(mut cli: clap::Command) -> String {
    cli.build();
    let mut out = String::from(
        "# CLI reference\n\nGenerated from the command definitions by `cdspred docs cli`; do not edit by hand.\n\n",
    );
    command_markdown(&mut out, &cli, &[]);
    out
}

fn command_markdown(out: &mut String, cmd: &clap::Command, parents: &[&str]) {
    if cmd.is_hide_set() {
        return;
    }
    let mut path: Vec<&str> = parents.to_vec();
    path.push(cmd.get_name());
    let level = "#".repeat((path.len() + 1).min(4));
    let _ = writeln!(out, "{level} `{}`\n", path.join(" "));
    if let Some(about) = cmd.get_long_about().or(cmd.get_about()) {
        let _ = writeln!(out, "{}\n", html(about.to_string().trim()));
    }
    let has_subs = cmd.get_subcommands().any(|s| !s.is_hide_set());
    let usage = cmd.clone().render_usage().to_string();
    let usage = usage.trim_start_matches("Usage: ").trim();
    let _ = writeln!(out, "```text\n{usage}\n```\n");
    // Global options are listed once, under the top command.
    let args: Vec<&clap::Arg> = cmd
        .get_arguments()
        .filter(|a| !a.is_hide_set() && a.get_id() != "help" && a.get_id() != "version")
        .filter(|a| parents.is_empty() || !a.is_global_set())
        .collect();
    if !args.is_empty() {
        out.push_str("| argument | meaning | default |\n|---|---|---|\n");
        for a in args {
            let name = match (a.get_long(), a.get_short()) {
                (Some(l), Some(s)) => format!("`-{s}`, `--{l}`"),
                (Some(l), None) => format!("`--{l}`"),
                (None, Some(s)) => format!("`-{s}`"),
                (None, None) => format!("`{}`", a.get_id().as_str().to_uppercase()),
            };
            let mut help = a
                .get_long_help()
                .or(a.get_help())
                .map(|h| h.to_string())
                .unwrap_or_default();
            let values: Vec<String> = a
                .get_possible_values()
                .iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| format!("`{}`", v.get_name()))
                .collect();
            if !help.is_empty() && !help.ends_with('.') {
                help.push('.');
            }
            if !values.is_empty() && a.get_action().takes_values() {
                let _ = write!(help, " One of {}.", values.join(", "));
            }
            let default: Vec<String> = a
                .get_default_values()
                .iter()
                .map(|v| v.to_string_lossy().into_owned())
                .collect();
            let default = if default.is_empty() {
                String::new()
            } else {
                format!("`{}`", default.join(" "))
            };
            let _ = writeln!(out, "| {name} | {} | {default} |", escape(help.trim()));
        }
        out.push('\n');
    }
    if has_subs {
        for s in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
            command_markdown(out, s, &path);
        }
    }
}

fn api_markdown(doc: &serde_json::Value) -> String {
    let mut out = String::from(
        "# HTTP API reference\n\nGenerated from the server's OpenAPI document (`/openapi.json`, also in \
         [openapi.json](openapi.json)) by `cdspred docs api`; do not edit by hand. The `/v1/*` \
         routes need `Authorization: Bearer TOKEN` when the server runs with `--auth-token`.\n\n",
    );
    if let Some(d) = doc["info"]["description"].as_str() {
        let _ = writeln!(out, "{d}\n");
    }
    let Some(paths) = doc["paths"].as_object() else {
        return out;
    };
    for (path, item) in paths {
        let Some(ops) = item.as_object() else {
            continue;
        };
        for (method, op) in ops {
            let _ = writeln!(out, "## `{} {path}`\n", method.to_uppercase());
            operation_markdown(&mut out, op);
        }
    }
    if let Some(schemas) = doc["components"]["schemas"].as_object() {
        out.push_str("## Schemas\n\n");
        for (name, s) in schemas {
            schema_markdown(&mut out, name, s);
        }
    }
    out
}

/// One operation's summary, parameters, request body and responses.
fn operation_markdown(out: &mut String, op: &serde_json::Value) {
    for key in ["summary", "description"] {
        if let Some(t) = op[key].as_str() {
            let _ = writeln!(out, "{}\n", t.trim());
        }
    }
    if let Some(params) = op["parameters"].as_array() {
        out.push_str("| parameter | in | required | meaning |\n|---|---|---|---|\n");
        for p in params {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                p["name"].as_str().unwrap_or(""),
                p["in"].as_str().unwrap_or(""),
                if p["required"].as_bool().unwrap_or(false) {
                    "yes"
                } else {
                    "no"
                },
                escape(p["description"].as_str().unwrap_or(""))
            );
        }
        out.push('\n');
    }
    if let Some(body) = op["requestBody"].as_object() {
        let types: Vec<String> = body
            .get("content")
            .and_then(|c| c.as_object())
            .map(|c| c.keys().map(|k| format!("`{k}`")).collect())
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "Request body ({}): {}\n",
            types.join(", "),
            body.get("description")
                .and_then(|d| d.as_str())
                .unwrap_or("")
        );
    }
    if let Some(resp) = op["responses"].as_object() {
        out.push_str("| status | meaning |\n|---|---|\n");
        for (code, r) in resp {
            let _ = writeln!(
                out,
                "| {code} | {} |",
                escape(r["description"].as_str().unwrap_or(""))
            );
        }
        out.push('\n');
    }
}

/// One schema's description and fields.
fn schema_markdown(out: &mut String, name: &str, s: &serde_json::Value) {
    let _ = writeln!(out, "### `{name}`\n");
    if let Some(d) = s["description"].as_str() {
        let _ = writeln!(out, "{}\n", d.trim());
    }
    if let Some(props) = s["properties"].as_object() {
        let required: Vec<&str> = s["required"]
            .as_array()
            .map(|r| r.iter().filter_map(|v| v.as_str()).collect())
            .unwrap_or_default();
        out.push_str("| field | type | required | meaning |\n|---|---|---|---|\n");
        for (field, p) in props {
            let ty = p["type"]
                .as_str()
                .map(str::to_string)
                .or_else(|| {
                    p["type"].as_array().map(|t| {
                        t.iter()
                            .filter_map(|v| v.as_str())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    })
                })
                .or_else(|| {
                    p["$ref"]
                        .as_str()
                        .map(|r| r.rsplit('/').next().unwrap_or(r).to_string())
                })
                .unwrap_or_else(|| "object".into());
            let _ = writeln!(
                out,
                "| `{field}` | {ty} | {} | {} |",
                if required.contains(&field.as_str()) {
                    "yes"
                } else {
                    "no"
                },
                escape(p["description"].as_str().unwrap_or(""))
            );
        }
        out.push('\n');
    }
}
