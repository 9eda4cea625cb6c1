#![forbid(unsafe_code)]

#[tokio::main]
async fn main() -> std::process::ExitCode {
    weir::cli::main().await
}
