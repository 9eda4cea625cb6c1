//! `weir dev --private-db` with DATABASE_URL unset: it starts its own
//! PostgreSQL, the curl it prints enqueues a job that succeeds, SIGINT
//! leaves no PostgreSQL process behind, and a second run reuses the data.
//! The server runs on its own port and data directory, so this test runs
//! in parallel with the rest of the suite.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

struct Dev {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
    stopped: bool,
}

impl Drop for Dev {
    /// A failing test still stops weir (and so its PostgreSQL).
    fn drop(&mut self) {
        if !self.stopped && !std::thread::panicking() {
            self.interrupt_and_wait();
        } else if !self.stopped {
            let _ = Command::new("kill")
                .args(["-INT", &self.child.id().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(dir: &Path, port: u16) -> Dev {
    let mut child = Command::new(env!("CARGO_BIN_EXE_weir"))
        .args(["dev", "--private-db"])
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env("WEIR_BIND", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Dev {
        child,
        lines,
        seen: Vec::new(),
        stopped: false,
    }
}

impl Dev {
    /// Reads stdout until a line contains `needle`.
    fn wait_for(&mut self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while !self.seen.iter().any(|l| l.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => self.seen.push(l),
                Err(_) => panic!("no line with {needle:?}; output so far: {:#?}", self.seen),
            }
        }
    }

    /// SIGINT, then wait for a clean exit.
    fn interrupt(mut self) {
        self.interrupt_and_wait();
    }

    fn interrupt_and_wait(&mut self) {
        let status = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "weir dev exited with {status}");
                self.stopped = true;
                return;
            }
            assert!(Instant::now() < deadline, "weir dev did not stop on SIGINT");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn sh(cmd: &str) -> String {
    let out = Command::new("sh").args(["-c", cmd]).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Processes whose command line mentions `path` (a PostgreSQL on our data).
fn processes_using(path: &Path) -> Vec<String> {
    let needle = path.to_string_lossy().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
        .filter(|c| c.contains(&needle) && !c.contains("dev_private_db"))
        .collect()
}

#[test]
fn weir_dev_runs_a_private_postgres_that_stops_and_is_reused() {
    let dir: PathBuf = std::env::temp_dir().join(format!("weir-dev-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join(".weir/pg");

    let port = free_port();
    let mut dev = start(&dir, port);
    dev.wait_for("-d '{");
    assert!(
        dev.seen
            .iter()
            .any(|l| l.contains("creating a private PostgreSQL")),
        "{:#?}",
        dev.seen
    );
    assert!(dev.seen.iter().any(|l| l.contains("/docs")));
    // The printed curl, as a user would paste it.
    let start_at = dev
        .seen
        .iter()
        .position(|l| l.trim_start().starts_with("curl "))
        .unwrap();
    let curl = dev.seen[start_at..=start_at + 1].join("\n");
    let created: serde_json::Value = serde_json::from_str(&sh(&curl)).unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    let done: serde_json::Value = serde_json::from_str(&sh(&format!(
        "curl -s 'http://127.0.0.1:{port}/v1/jobs/{id}?wait=60'"
    )))
    .unwrap();
    assert_eq!(done["state"], "succeeded", "{done}");
    assert_eq!(done["result"]["result"], "Processed item x");
    dev.interrupt();
    assert!(
        processes_using(&data).is_empty(),
        "left behind: {:?}",
        processes_using(&data)
    );

    // Second run: the same data, the job is still there.
    let port = free_port();
    let mut dev = start(&dir, port);
    dev.wait_for("-d '{");
    assert!(
        dev.seen
            .iter()
            .any(|l| l.contains("reusing the private PostgreSQL data")),
        "{:#?}",
        dev.seen
    );
    let again: serde_json::Value = serde_json::from_str(&sh(&format!(
        "curl -s http://127.0.0.1:{port}/v1/jobs/{id}"
    )))
    .unwrap();
    assert_eq!(again["state"], "succeeded");
    dev.interrupt();
    assert!(processes_using(&data).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
}
