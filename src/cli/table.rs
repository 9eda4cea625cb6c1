//! Plain-text output of the ops verbs: aligned tables and job summaries.

use chrono::Utc;

use crate::job::Job;

/// Renders rows under headers, each column as wide as its widest cell.
pub fn render(headers: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let mut out = line(headers.to_vec());
    for row in rows {
        out.push('\n');
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
}

/// "3s", "4m", "2h", "5d": how long ago `t` was.
pub fn age(t: chrono::DateTime<Utc>) -> String {
    let secs = (Utc::now() - t).num_seconds().max(0);
    match secs {
        0..=59 => format!("{secs}s"),
        60..=3599 => format!("{}m", secs / 60),
        3600..=86_399 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

/// `done/total` or `-`.
pub fn progress(job: &Job) -> String {
    match &job.progress {
        Some(p) => match (p.done, p.total) {
            (Some(d), Some(t)) => format!("{d}/{t}"),
            (Some(d), None) => d.to_string(),
            _ => p.message.clone().unwrap_or_else(|| "-".into()),
        },
        None => "-".into(),
    }
}

/// A readable multi-line description of one job.
pub fn describe(job: &Job) -> String {
    let mut out = vec![
        format!("id           {}", job.id),
        format!("kind         {}", job.kind),
        format!("queue        {}", job.queue),
        format!("state        {}", job.state),
        format!("attempt      {}/{}", job.attempt, job.max_attempts),
        format!("priority     {}", job.priority),
        format!("args         {}", job.args),
        format!("created_at   {}", job.created_at.to_rfc3339()),
        format!("run_at       {}", job.run_at.to_rfc3339()),
    ];
    if let Some(t) = job.started_at {
        out.push(format!("started_at   {}", t.to_rfc3339()));
    }
    if let Some(t) = job.finished_at {
        out.push(format!("finished_at  {}", t.to_rfc3339()));
    }
    if job.progress.is_some() {
        let message = job
            .progress
            .as_ref()
            .and_then(|p| p.message.clone())
            .unwrap_or_default();
        out.push(format!("progress     {} {message}", progress(job)));
    }
    if let Some(r) = job.result.as_ref().filter(|r| !r.is_null()) {
        out.push(format!("result       {r}"));
    }
    if let Some(k) = &job.unique_key {
        out.push(format!("unique_key   {k}"));
    }
    if let Some(t) = job.cancel_requested {
        out.push(format!("cancel_requested {}", t.to_rfc3339()));
    }
    for e in &job.errors {
        out.push(format!(
            "error        attempt {} at {}: {}",
            e.attempt,
            e.at.to_rfc3339(),
            e.message
        ));
    }
    out.join("\n")
}

/// A job's explanation in one line: the reason, then its details.
pub fn explanation(e: &crate::flow::Explanation) -> String {
    let detail = match e.reason.as_str() {
        "scheduled" | "retry_backoff" => e.until.map(|u| format!("until {}", u.to_rfc3339())),
        "rate_limited" => Some(format!(
            "{} of {} starts in the window; next start after {}",
            e.started.unwrap_or(0),
            e.max.unwrap_or(0),
            e.until
                .map(|u| u.to_rfc3339())
                .unwrap_or_else(|| "-".into())
        )),
        "queue_concurrency_limit" => Some(format!(
            "{} of {} running in queue {}",
            e.running.unwrap_or(0),
            e.max.unwrap_or(0),
            e.queue.as_deref().unwrap_or("-")
        )),
        "key_concurrency_limit" => Some(format!(
            "{} of {} running with key {:?}",
            e.running.unwrap_or(0),
            e.max.unwrap_or(0),
            e.key.as_deref().unwrap_or("")
        )),
        "no_worker_for_kind" => Some(format!(
            "no live worker serves kind {} on queue {}",
            e.kind.as_deref().unwrap_or("-"),
            e.queue.as_deref().unwrap_or("-")
        )),
        "queued_behind" => Some(format!("{} jobs ahead", e.ahead.unwrap_or(0))),
        "waiting_on_dependencies" => e.waiting_on.as_ref().map(|ids| {
            let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
            format!("on {}", ids.join(", "))
        }),
        "running" => e.node_id.map(|n| format!("on node {n}")),
        _ => None,
    };
    match detail {
        Some(d) => format!("{}: {d}", e.reason),
        None => e.reason.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let t = render(&["a", "bb"], &[vec!["xxx".into(), "y".into()]]);
        assert_eq!(t, "a    bb\nxxx  y");
    }
}
