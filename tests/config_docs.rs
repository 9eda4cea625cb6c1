//! Every environment variable the code reads is listed in `.env.example`
//! and in the configuration reference.

use std::path::Path;

/// Variables of the system, not of weir.
const SYSTEM: &[&str] = &["PATH", "HOSTNAME"];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Names in `env = "X"` (clap) and `var("X")` / `var_os("X")` (std).
fn variables_read() -> Vec<String> {
    let mut files = Vec::new();
    rust_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    let mut names = Vec::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap();
        for marker in ["env = \"", "var(\"", "var_os(\""] {
            for (i, _) in text.match_indices(marker) {
                let rest = &text[i + marker.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                if !name.is_empty()
                    && rest[name.len()..].starts_with('"')
                    && !SYSTEM.contains(&name.as_str())
                {
                    names.push(name);
                }
            }
        }
    }
    names.sort();
    names.dedup();
    names
}

#[test]
fn every_env_var_is_in_env_example_and_the_configuration_reference() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let example = std::fs::read_to_string(root.join(".env.example")).unwrap();
    let reference = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let names = variables_read();
    assert!(names.len() >= 10, "found too few variables: {names:?}");
    for name in &names {
        assert!(
            example
                .lines()
                .any(|l| l.trim_start_matches("# ").starts_with(&format!("{name}="))),
            "{name} is read by the code but not listed in .env.example"
        );
        assert!(
            reference.contains(&format!("`{name}`")),
            "{name} is missing from docs/configuration.md"
        );
    }
    // Read by tracing-subscriber, not by weir's code.
    assert!(example.contains("RUST_LOG") && reference.contains("`RUST_LOG`"));
}
