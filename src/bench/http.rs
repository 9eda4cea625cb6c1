//! HTTP enqueue: `POST /v1/jobs` from `http_connections` keep-alive
//! connections for `http_duration`; requests/s and latency percentiles.
//!
//! The load generator is a minimal HTTP/1.1 client over
//! `tokio::net::TcpStream` (no client crate needed), loopback only.
//!
//! Without `--http-url`, the scenario starts a web node in this process on
//! a free loopback port against the scratch database (the pool sized for
//! the connections), and stops it afterwards.

use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::stats::Percentiles;
use super::{KIND, Options, QUEUE, Scratch, Section, round};
use crate::error::{Error, Result};

pub async fn run(scratch: &Scratch, o: &Options) -> Result<Section> {
    let stop = tokio_util::sync::CancellationToken::new();
    let _stop_on_return = stop.clone().drop_guard();
    let url = match &o.http_url {
        Some(url) => url.clone(),
        None => web_node(scratch, o.http_connections.clamp(4, 64) as u32, &stop).await?,
    };
    let url = &url;
    let addr = loopback_addr(url)?;
    let (ok, errors, secs, latencies) = load(&addr, o.http_connections, o.http_duration).await?;
    let p = Percentiles::of(&latencies);
    let rate = ok as f64 / secs;
    let mut obj = serde_json::Map::new();
    obj.insert("requests_per_sec".into(), json!(round(rate, 0)));
    obj.insert("ok".into(), json!(ok));
    obj.insert("errors".into(), json!(errors));
    obj.insert("connections".into(), json!(o.http_connections));
    p.insert_into(&mut obj, "latency");
    Ok(Section {
        key: "http",
        rows: vec![
            ("target".into(), format!("POST {url}/v1/jobs")),
            ("connections".into(), o.http_connections.to_string()),
            ("req/s (2xx)".into(), format!("{rate:.0} ({errors} errors)")),
            ("latency p50/p95/p99/max".into(), p.display()),
        ],
        json: serde_json::Value::Object(obj),
    })
}

/// Starts a web node in this process on a free loopback port against the
/// scratch database (a pool of `pool_size`), until `stop`; answers its URL
/// once it accepts connections.
pub(super) async fn web_node(
    scratch: &Scratch,
    pool_size: u32,
    stop: &tokio_util::sync::CancellationToken,
) -> Result<String> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Config(format!("no free port: {e}")))?
        .port();
    let bind = format!("127.0.0.1:{port}");
    let pool = scratch.pool(pool_size).await?;
    let server = tokio::spawn({
        let (bind, stop) = (bind.clone(), stop.clone());
        async move { crate::api::serve(pool, crate::api::ApiConfig::default(), &bind, stop).await }
    });
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(&bind).await.is_err() {
        if server.is_finished() || Instant::now() > deadline {
            return Err(Error::Config(
                "the in-process web node did not start".into(),
            ));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(format!("http://{bind}"))
}

/// Sends one request with a JSON body on a keep-alive connection and
/// answers the status and the body.
pub(super) async fn post_json(
    stream: &mut BufReader<TcpStream>,
    addr: &str,
    path: &str,
    body: &serde_json::Value,
) -> Result<(u16, Vec<u8>)> {
    let body = serde_json::to_string(body)?;
    let request = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let io = |e: std::io::Error| Error::Config(format!("http: {e}"));
    stream
        .get_mut()
        .write_all(request.as_bytes())
        .await
        .map_err(io)?;
    read_response(stream).await.map_err(io)
}

/// `http://127.0.0.1:8000` → `127.0.0.1:8000`; anything not on a loopback
/// address is refused.
pub(super) fn loopback_addr(url: &str) -> Result<String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| Error::Config(format!("--http-url {url:?}: only http:// is supported")))?;
    let hostport = rest.split('/').next().unwrap_or_default();
    let host = hostport
        .rsplit_once(':')
        .map_or(hostport, |(h, _)| h)
        .trim_matches(['[', ']']);
    if !matches!(host, "127.0.0.1" | "localhost" | "::1") {
        return Err(Error::Config(format!(
            "--http-url {url:?}: the benchmark only loads loopback addresses"
        )));
    }
    Ok(if hostport.contains(':') && !hostport.ends_with(']') {
        hostport.to_string()
    } else {
        format!("{hostport}:80")
    })
}

/// Drives `connections` keep-alive connections for `d`: 2xx answers,
/// other answers, seconds, and every request's latency.
pub async fn load(
    addr: &str,
    connections: usize,
    d: Duration,
) -> Result<(u64, u64, f64, Vec<Duration>)> {
    let body = serde_json::to_string(&json!({"kind": KIND, "queue": QUEUE, "args": {}}))?;
    let request = format!(
        "POST /v1/jobs HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let start = Instant::now();
    let end = start + d;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (addr, request) = (addr.to_string(), request.clone());
        tasks.spawn(async move {
            let stream = TcpStream::connect(&addr).await?;
            stream.set_nodelay(true)?;
            let mut stream = BufReader::new(stream);
            let (mut ok, mut errors, mut lat) = (0u64, 0u64, Vec::new());
            // Bounded by `end`.
            while Instant::now() < end {
                let t = Instant::now();
                stream.get_mut().write_all(request.as_bytes()).await?;
                let (status, _) = read_response(&mut stream).await?;
                lat.push(t.elapsed());
                if (200..300).contains(&status) {
                    ok += 1;
                } else {
                    errors += 1;
                }
            }
            Ok::<_, std::io::Error>((ok, errors, lat))
        });
    }
    let (mut ok, mut errors, mut lat) = (0, 0, Vec::new());
    while let Some(r) = tasks.join_next().await {
        let (o, e, l) = r
            .map_err(|e| Error::Config(format!("http load task: {e}")))?
            .map_err(|e| Error::Config(format!("http load: {e}")))?;
        ok += o;
        errors += e;
        lat.extend(l);
    }
    Ok((ok, errors, start.elapsed().as_secs_f64(), lat))
}

/// Reads one response (status line, headers, `Content-Length` body) and
/// returns its status code and body.
async fn read_response(stream: &mut BufReader<TcpStream>) -> std::io::Result<(u16, Vec<u8>)> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_string());
    let mut line = String::new();
    if stream.read_line(&mut line).await? == 0 {
        return Err(bad("connection closed"));
    }
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let mut length = 0usize;
    loop {
        line.clear();
        if stream.read_line(&mut line).await? == 0 {
            return Err(bad("connection closed in headers"));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().map_err(|_| bad("bad content-length"))?;
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await?;
    Ok((status, body))
}

#[cfg(test)]
mod tests {
    use super::loopback_addr;

    #[test]
    fn only_loopback_urls_are_loaded() {
        assert_eq!(
            loopback_addr("http://127.0.0.1:8000").unwrap(),
            "127.0.0.1:8000"
        );
        assert_eq!(loopback_addr("http://localhost").unwrap(), "localhost:80");
        assert!(loopback_addr("http://10.0.0.1:8000").is_err());
        assert!(loopback_addr("https://127.0.0.1").is_err());
    }
}
