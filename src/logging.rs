//! Log output: readable by default, JSON with `WEIR_LOG_FORMAT=json`,
//! levels from `RUST_LOG` (default `info`). Colours only on a terminal
//! (never in a file or a pipe) and never with `NO_COLOR` set.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber (once; later calls do nothing).
pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let json = std::env::var("WEIR_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let ansi = colours_wanted(
        std::io::stderr().is_terminal(),
        std::env::var("NO_COLOR").ok().as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Colours on a terminal unless `NO_COLOR` is set to anything but "". In
/// a file or a pipe they are escape codes to read around, and painting
/// every span's fields (one span per job) costs the worker CPU for
/// nothing.
fn colours_wanted(terminal: bool, no_color: Option<&str>) -> bool {
    terminal && no_color.is_none_or(str::is_empty)
}

#[cfg(test)]
mod tests {
    use super::colours_wanted;

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours_wanted(true, None));
        assert!(colours_wanted(true, Some("")));
        assert!(!colours_wanted(true, Some("1")));
        assert!(!colours_wanted(false, None));
    }
}
