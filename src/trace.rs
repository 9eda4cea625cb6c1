//! Trace context across the queue: a job keeps the W3C `traceparent` of
//! its enqueue (the `weir.jobs.traceparent` column), and each attempt's
//! span is its child, so that one trace shows request → enqueue →
//! attempts → outcome.
//!
//! The context comes from the enqueuer's current `tracing` span when an
//! OpenTelemetry layer (`tracing-opentelemetry`) is installed, else from
//! what the caller gave ([`crate::NewJob::traceparent`], the web node's
//! `traceparent` header, or the column set by a SQL producer). Without
//! the `otel` feature the column is still stored and handed to external
//! workers; the built-in worker's spans then have no OpenTelemetry parent.

/// Whether `value` is a well-formed W3C `traceparent`: version, 32 hex
/// digits of trace id, 16 of parent span id, 2 of flags, lowercase, with
/// neither id all zeros. What the column's CHECK accepts, and then some.
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, n: usize| {
        s.len() == n
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    parts.len() == 4
        && hex(parts[0], 2)
        && parts[0] != "ff"
        && hex(parts[1], 32)
        && hex(parts[2], 16)
        && hex(parts[3], 2)
        && parts[1].bytes().any(|b| b != b'0')
        && parts[2].bytes().any(|b| b != b'0')
}

/// The `traceparent` of the current span, when an OpenTelemetry layer
/// gives it a valid context.
#[cfg(feature = "otel")]
pub fn current_traceparent() -> Option<String> {
    use opentelemetry::trace::TraceContextExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let cx = tracing::Span::current().context();
    let span = cx.span();
    let sc = span.span_context();
    sc.is_valid().then(|| {
        format!(
            "00-{}-{}-{:02x}",
            sc.trace_id(),
            sc.span_id(),
            sc.trace_flags().to_u8()
        )
    })
}

/// Without the `otel` feature there is no OpenTelemetry context.
#[cfg(not(feature = "otel"))]
pub fn current_traceparent() -> Option<String> {
    None
}

/// Makes `traceparent` (if valid) the OpenTelemetry parent of `span`. Does
/// nothing without an OpenTelemetry layer or the `otel` feature.
#[cfg(feature = "otel")]
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>) {
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState,
    };
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let Some(tp) = traceparent.filter(|tp| is_valid_traceparent(tp)) else {
        return;
    };
    let parts: Vec<&str> = tp.split('-').collect();
    let (Ok(trace), Ok(parent), Ok(flags)) = (
        TraceId::from_hex(parts[1]),
        SpanId::from_hex(parts[2]),
        u8::from_str_radix(parts[3], 16),
    ) else {
        return;
    };
    let remote = SpanContext::new(
        trace,
        parent,
        TraceFlags::new(flags),
        true,
        TraceState::NONE,
    );
    let cx = opentelemetry::Context::new().with_remote_span_context(remote);
    let _ = span.set_parent(cx);
}

/// Without the `otel` feature there is no OpenTelemetry parent to set.
#[cfg(not(feature = "otel"))]
pub fn set_parent(_span: &tracing::Span, _traceparent: Option<&str>) {}

#[cfg(test)]
mod tests {
    use super::is_valid_traceparent;

    #[test]
    fn traceparents_are_checked_as_w3c_says() {
        assert!(is_valid_traceparent(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        ));
        for bad in [
            "",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",
        ] {
            assert!(!is_valid_traceparent(bad), "{bad}");
        }
    }
}
