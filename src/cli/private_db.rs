//! The private PostgreSQL of `weir dev`: when no database is configured
//! and none answers at the default address (or with `--private-db`), weir
//! runs its own server from the PostgreSQL binaries installed on the
//! machine, with its data under `.weir/pg` in the current directory,
//! reused by the next run and stopped when weir exits.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::error::{Error, Result};

/// Prints a line to stdout, ignoring a closed stdout (weir must still
/// stop the server when whoever read its output is gone).
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// Data directory, relative to the current directory.
pub const DATA_DIR: &str = ".weir/pg";

/// True when something accepts TCP connections at `addr` within 1 s.
pub fn answers(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
}

/// A running private server; [`PrivateDb::stop`] stops it.
pub struct PrivateDb {
    bin: PathBuf,
    data: PathBuf,
    owner: Option<(u32, u32)>,
    pub port: u16,
}

impl PrivateDb {
    /// The URL of database `weir` on this server.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/weir", self.port)
    }

    /// Initializes (first run) or reuses the data directory and starts the
    /// server on a free loopback port.
    pub fn start() -> Result<PrivateDb> {
        let bin = find_bindir().ok_or_else(|| {
            Error::Config(
                "no PostgreSQL server binaries (initdb, pg_ctl) found: install PostgreSQL \
                 (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql@16) \
                 or set DATABASE_URL"
                    .into(),
            )
        })?;
        let data = std::env::current_dir()
            .map_err(|e| Error::Config(format!("no current directory: {e}")))?
            .join(DATA_DIR);
        // initdb refuses to run as root: run the server as an ordinary user.
        let owner = if is_root() {
            Some(unprivileged_user()?)
        } else {
            None
        };
        if let Some((uid, _)) = owner {
            check_reachable(&data, uid)?;
        }
        let mut db = PrivateDb {
            bin,
            data,
            owner,
            port: 0,
        };
        if !db.data.join("PG_VERSION").exists() {
            db.init()?;
        } else {
            say!(
                "weir dev: reusing the private PostgreSQL data in {}",
                db.data.display()
            );
        }
        if let Some(port) = db.running_port() {
            say!("weir dev: the private PostgreSQL is already running on port {port}");
            db.port = port;
            return Ok(db);
        }
        // A postmaster.pid left by a killed run names no live server: remove it.
        let _ = std::fs::remove_file(db.data.join("postmaster.pid"));
        db.port = free_port()?;
        let log = db.data.parent().unwrap_or(&db.data).join("pg.log");
        let options = format!(
            "-p {} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''",
            db.port
        );
        db.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                db.data.as_os_str(),
                "-l".as_ref(),
                log.as_os_str(),
                "-w".as_ref(),
                "-t".as_ref(),
                "60".as_ref(),
                "-o".as_ref(),
                options.as_ref(),
                "start".as_ref(),
            ],
        )?;
        say!(
            "weir dev: started a private PostgreSQL on 127.0.0.1:{} (data {})",
            db.port,
            db.data.display()
        );
        Ok(db)
    }

    fn init(&self) -> Result<()> {
        std::fs::create_dir_all(&self.data)
            .map_err(|e| Error::Config(format!("cannot create {}: {e}", self.data.display())))?;
        if let Some((uid, gid)) = self.owner {
            for dir in [self.data.parent().unwrap_or(&self.data), &self.data] {
                std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(|e| {
                    Error::Config(format!("cannot hand {} to uid {uid}: {e}", dir.display()))
                })?;
            }
        }
        std::fs::set_permissions(&self.data, std::fs::Permissions::from_mode(0o700)).map_err(
            |e| {
                Error::Config(format!(
                    "cannot set permissions of {}: {e}",
                    self.data.display()
                ))
            },
        )?;
        say!(
            "weir dev: creating a private PostgreSQL in {}",
            self.data.display()
        );
        self.run(
            "initdb",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-U".as_ref(),
                "postgres".as_ref(),
                "-A".as_ref(),
                "trust".as_ref(),
                "-E".as_ref(),
                "UTF8".as_ref(),
            ],
        )
    }

    /// The port of a server already running on this data directory.
    fn running_port(&self) -> Option<u16> {
        let pid_file = std::fs::read_to_string(self.data.join("postmaster.pid")).ok()?;
        let pid: u32 = pid_file.lines().next()?.trim().parse().ok()?;
        let port: u16 = pid_file.lines().nth(3)?.trim().parse().ok()?;
        // The process must exist and the port answer; otherwise it is stale.
        let alive = Path::new(&format!("/proc/{pid}")).exists() || cfg!(not(target_os = "linux"));
        (alive && answers(&format!("127.0.0.1:{port}"))).then_some(port)
    }

    /// Stops the server (fast shutdown: connections are closed cleanly).
    pub fn stop(&self) -> Result<()> {
        self.run(
            "pg_ctl",
            &[
                "-D".as_ref(),
                self.data.as_os_str(),
                "-m".as_ref(),
                "fast".as_ref(),
                "-w".as_ref(),
                "stop".as_ref(),
            ],
        )?;
        say!("weir dev: stopped the private PostgreSQL");
        Ok(())
    }

    fn run(&self, tool: &str, args: &[&std::ffi::OsStr]) -> Result<()> {
        let mut cmd = Command::new(self.bin.join(tool));
        cmd.args(args)
            .current_dir("/")
            // Its own process group: a Ctrl-C in the terminal reaches weir,
            // which stops the server itself after the worker has drained.
            .process_group(0);
        if let Some((uid, gid)) = self.owner {
            cmd.uid(uid).gid(gid);
        }
        let out = cmd
            .output()
            .map_err(|e| Error::Config(format!("cannot run {tool}: {e}")))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let last = stderr
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            return Err(Error::Config(format!("{tool} failed: {last}")));
        }
        Ok(())
    }
}

/// Where `initdb` and `pg_ctl` live: `pg_config --bindir`, then `PATH`,
/// then the usual Debian and Homebrew locations (newest version first).
fn find_bindir() -> Option<PathBuf> {
    let has_tools = |dir: &Path| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output()
        && out.status.success()
    {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if has_tools(&dir) {
            return Some(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if has_tools(&dir) {
                return Some(dir);
            }
        }
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    for pattern_dir in ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt"] {
        if let Ok(entries) = std::fs::read_dir(pattern_dir) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().to_string();
                if pattern_dir.ends_with("postgresql") || name.starts_with("postgresql") {
                    candidates.push(e.path().join("bin"));
                }
            }
        }
    }
    candidates.sort_by_key(|p| std::cmp::Reverse(version_of(p)));
    candidates.into_iter().find(|d| has_tools(d))
}

/// The first number in a path like `/usr/lib/postgresql/15/bin`, for ordering.
fn version_of(p: &Path) -> u32 {
    p.to_string_lossy()
        .split(|c: char| !c.is_ascii_digit())
        .find_map(|s| s.parse().ok())
        .unwrap_or(0)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// uid and gid of the `postgres` user, else `nobody`, from /etc/passwd.
fn unprivileged_user() -> Result<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for name in ["postgres", "nobody"] {
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() > 3
                && f[0] == name
                && let (Ok(uid), Ok(gid)) = (f[2].parse(), f[3].parse())
            {
                return Ok((uid, gid));
            }
        }
    }
    Err(Error::Config(
        "running as root, and no unprivileged user (postgres or nobody) to run PostgreSQL as"
            .into(),
    ))
}

/// The server's user must be able to traverse every directory above the
/// data directory (a project under /root is not reachable).
fn check_reachable(data: &Path, uid: u32) -> Result<()> {
    let mut dir = data.parent();
    while let Some(d) = dir {
        if let Ok(meta) = std::fs::metadata(d) {
            let mode = meta.permissions().mode();
            let owner = std::os::unix::fs::MetadataExt::uid(&meta);
            if owner != uid && mode & 0o001 == 0 {
                return Err(Error::Config(format!(
                    "the private PostgreSQL runs as uid {uid}, which cannot enter {} \
                     (run weir dev from a directory outside it, or set DATABASE_URL)",
                    d.display()
                )));
            }
        }
        dir = d.parent();
    }
    Ok(())
}

fn free_port() -> Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::Config(format!("no free port on 127.0.0.1: {e}")))
}
