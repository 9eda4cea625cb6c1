//! The layout is the architecture: the web node and the CLI reach the
//! database only through the library's `Client` (and `weir::setup`), and no
//! source file grows past a readable size.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

fn files_under(dir: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join(dir), &mut out);
    assert!(!out.is_empty(), "no Rust files under {dir}");
    out
}

#[test]
fn api_and_cli_never_reach_the_sql_layer() {
    let mut offenders = Vec::new();
    for dir in ["src/api", "src/cli"] {
        for file in files_under(dir) {
            let text = std::fs::read_to_string(&file).unwrap();
            for (n, line) in text.lines().enumerate() {
                if line.contains("crate::db") || line.contains("weir::db") {
                    offenders.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "src/api and src/cli must go through Client, not crate::db:\n{}",
        offenders.join("\n")
    );
}

/// Most lines in one source file (the dashboard's assets excepted).
const MAX_LINES: usize = 550;

#[test]
fn no_source_file_is_over_a_readable_size() {
    let big: Vec<String> = files_under("src")
        .into_iter()
        .filter(|f| !f.to_string_lossy().contains("src/api/ui/"))
        .filter_map(|f| {
            let lines = std::fs::read_to_string(&f).unwrap().lines().count();
            (lines > MAX_LINES).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(big.is_empty(), "split these files: {}", big.join(", "));
}
