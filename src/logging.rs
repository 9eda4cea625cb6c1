//! Log output and trace export of the `weir` binary.
//!
//! Logs: readable by default, JSON with `WEIR_LOG_FORMAT=json`, levels from
//! `RUST_LOG` (default `info`). Colours only on a terminal (never in a file
//! or a pipe) and never with `NO_COLOR` set. A line written inside a job's
//! attempt carries the job's id, kind, queue and attempt (the `job` span).
//!
//! Traces: off unless the standard OpenTelemetry variables ask for them
//! ([`otlp_wanted`]); then spans go to an OTLP endpoint over HTTP
//! (protobuf), and each job's attempt is a child of its enqueue (see
//! [`crate::trace`]).

use std::io::IsTerminal;

use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Flushes and stops the trace exporter when dropped (at exit), so that
/// the last spans are sent.
#[must_use]
pub struct Guard(Option<SdkTracerProvider>);

impl Drop for Guard {
    fn drop(&mut self) {
        if let Some(provider) = self.0.take() {
            let _ = provider.shutdown();
        }
    }
}

/// Installs the global subscriber (once; later calls install nothing and
/// return an empty guard). An exporter that cannot be built is reported
/// on stderr and traces stay off.
pub fn init() -> Guard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx::postgres::notice=warn"));
    let json = std::env::var("WEIR_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let ansi = colours_wanted(
        std::io::stderr().is_terminal(),
        std::env::var("NO_COLOR").ok().as_deref(),
    );
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let fmt = if json {
        fmt.json().boxed()
    } else {
        fmt.boxed()
    };
    let provider = otlp_wanted(|name| std::env::var(name).ok())
        .then(otlp_provider)
        .flatten();
    let otel = provider.as_ref().map(|p| {
        use opentelemetry::trace::TracerProvider;
        tracing_opentelemetry::layer().with_tracer(p.tracer("weir"))
    });
    let installed = tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(otel)
        .try_init()
        .is_ok();
    Guard(provider.filter(|_| installed))
}

/// Whether the OpenTelemetry variables ask for traces: an OTLP endpoint
/// (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`)
/// or `OTEL_TRACES_EXPORTER=otlp`, unless `OTEL_SDK_DISABLED=true` or
/// `OTEL_TRACES_EXPORTER=none`.
pub fn otlp_wanted(var: impl Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| var(name).is_some_and(|v| !v.trim().is_empty());
    let exporter = var("OTEL_TRACES_EXPORTER").map(|v| v.trim().to_ascii_lowercase());
    if var("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || exporter.as_deref() == Some("none")
    {
        return false;
    }
    exporter.as_deref() == Some("otlp")
        || set("OTEL_EXPORTER_OTLP_ENDPOINT")
        || set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
}

/// A tracer provider exporting over OTLP/HTTP as the `OTEL_*` variables
/// say (endpoint, headers, timeout; service name from
/// `OTEL_SERVICE_NAME`, default `weir`).
fn otlp_provider() -> Option<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()
        .map_err(|e| eprintln!("error: traces stay off: the OTLP exporter failed: {e}"))
        .ok()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "weir".into());
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service)
        .build();
    Some(
        SdkTracerProvider::builder()
            .with_resource(resource)
            .with_batch_exporter(exporter)
            .build(),
    )
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
    use super::{colours_wanted, otlp_wanted};

    #[test]
    fn colours_only_on_a_terminal_without_no_color() {
        assert!(colours_wanted(true, None));
        assert!(colours_wanted(true, Some("")));
        assert!(!colours_wanted(true, Some("1")));
        assert!(!colours_wanted(false, None));
    }

    #[test]
    fn traces_only_when_the_otel_variables_ask() {
        let with = |pairs: &'static [(&str, &str)]| {
            otlp_wanted(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.to_string())
            })
        };
        assert!(!with(&[]));
        assert!(with(&[(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "http://127.0.0.1:4318"
        )]));
        assert!(with(&[(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://127.0.0.1:4318/v1/traces"
        )]));
        assert!(with(&[("OTEL_TRACES_EXPORTER", "otlp")]));
        assert!(!with(&[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://x")
        ]));
        assert!(!with(&[
            ("OTEL_SDK_DISABLED", "true"),
            ("OTEL_TRACES_EXPORTER", "otlp")
        ]));
    }
}
