// Rebuild (and re-check the SQL macros) when a migration changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
