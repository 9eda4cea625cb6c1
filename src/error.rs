//! The library's error type, and the mapping from database constraint
//! names to messages a user can act on.

use crate::job::{JobId, WorkflowId};

/// Errors of the library (client, worker, migrations).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The job broke a rule of the schema (empty kind, args not an object,
    /// max_attempts < 1, ...). The message names the rule, never SQL.
    #[error("invalid job: {0}")]
    InvalidJob(String),
    /// An argument that is not what it must be (an id that is not a UUID,
    /// an unknown state); the message says what to fix.
    #[error("{0}")]
    InvalidArgument(String),
    /// The worker node is not registered (it unregistered, or stopped
    /// heartbeating and was declared dead): register again.
    #[error("{0}")]
    UnknownNode(String),
    /// No job has this id.
    #[error("job {0} not found")]
    NotFound(JobId),
    /// No schedule has this name; the message names it.
    #[error("{0}")]
    ScheduleNotFound(String),
    /// No workflow has this id.
    #[error("workflow {0} not found")]
    WorkflowNotFound(WorkflowId),
    /// The job is not in a state that allows the operation.
    #[error("{0}")]
    Conflict(String),
    /// An `Idempotency-Key` already used, by the same caller, for a request
    /// with another body: a new request needs a new key.
    #[error(
        "this Idempotency-Key was already used with a different request; use a new key for a new request"
    )]
    IdempotencyKeyReused,
    /// Configuration that cannot be used.
    #[error("configuration: {0}")]
    Config(String),
    /// The database could not be reached; trying again later may work.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Talking to the database failed.
    #[error("database: {message}{hint}", message = database_message(.0), hint = pooler_hint(.0))]
    Database(sqlx::Error),
    /// Applying migrations failed.
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A value could not be (de)serialized as JSON.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Messages for the named constraints of `weir.jobs` (see the migrations).
const CONSTRAINT_MESSAGES: &[(&str, &str)] = &[
    (
        "jobs_kind_not_empty",
        "kind must be 1 to 255 characters, not blank",
    ),
    (
        "jobs_queue_name_valid",
        "queue must be 1 to 128 characters of letters, digits, '_', '.', ':' or '-'",
    ),
    ("jobs_args_is_object", "args must be a JSON object"),
    (
        "jobs_max_attempts_positive",
        "max_attempts must be at least 1",
    ),
    (
        "jobs_attempt_within_max",
        "attempt must be between 0 and max_attempts",
    ),
    (
        "jobs_timeout_positive",
        "timeout_seconds must be at least 1",
    ),
    (
        "jobs_unique_key_not_empty",
        "unique_key must be 1 to 255 characters",
    ),
    (
        "jobs_live_unique_key_idx",
        "a live job already holds this unique_key",
    ),
    (
        "jobs_depends_on_valid",
        "depends_on must name 1 to 10000 jobs",
    ),
    (
        "jobs_ref_valid",
        "ref must be 1 to 255 characters, not blank",
    ),
    (
        "queues_name_valid",
        "queue must be 1 to 128 characters of letters, digits, '_', '.', ':' or '-'",
    ),
];

/// The user-facing message for a violated weir constraint, if it is one.
pub fn constraint_message(constraint: &str) -> Option<&'static str> {
    CONSTRAINT_MESSAGES
        .iter()
        .find(|(name, _)| *name == constraint)
        .map(|(_, message)| *message)
}

/// Messages for the SQLSTATEs of values the database refuses (class 22,
/// data exception) that a client can send.
const VALUE_MESSAGES: &[(&str, &str)] = &[
    ("22001", "a text value is too long"),
    ("22003", "a number is out of range"),
    ("22007", "a date or time is not valid"),
    ("22008", "a date or time is out of range"),
    ("22021", "text values may not contain NUL bytes"),
    (
        "22P05",
        "JSON values may not contain the NUL character (\\u0000)",
    ),
    ("22P02", "a value is not in the form expected"),
    ("22023", "a value is not valid here"),
];

/// The user-facing message for a SQLSTATE of a refused value, if it is one.
pub fn value_message(sqlstate: &str) -> Option<&'static str> {
    VALUE_MESSAGES
        .iter()
        .find(|(code, _)| *code == sqlstate)
        .map(|(_, message)| *message)
}

/// What the database said, in its own words (without sqlx's prefix or the
/// server's source line), with what to do where that is clear.
fn database_message(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("3D000") => format!(
            "{} (create it with `weir migrate`, or check DATABASE_URL)",
            db.message()
        ),
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::PoolTimedOut => {
            "no connection could be opened in time (is PostgreSQL running at DATABASE_URL?)"
                .to_string()
        }
        other => other.to_string(),
    }
}

/// What a prepared statement of sqlx's (`sqlx_s_N`) that already exists,
/// or no longer exists, on the server most likely means.
const POOLER_HINT: &str = " (is a connection pooler in transaction mode between weir and \
PostgreSQL? weir needs session-level connections: connect directly or use session mode; see \
docs/deployment.md)";

/// [`POOLER_HINT`] for an error about one of sqlx's prepared statements
/// (each connection names its own `sqlx_s_1`, `sqlx_s_2`, ...: a server
/// session shared by several of them sees the names collide or vanish),
/// else nothing.
fn pooler_hint(err: &sqlx::Error) -> &'static str {
    match err.as_database_error() {
        Some(db) if db.message().contains("prepared statement \"sqlx_s_") => POOLER_HINT,
        _ => "",
    }
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if let Some(db) = err.as_database_error() {
            if let Some(message) = db.constraint().and_then(constraint_message) {
                return Error::InvalidJob(message.to_string());
            }
            // The workflow functions' and the dependency trigger's own
            // messages are written for users: passed on as they are.
            if matches!(db.code().as_deref(), Some("22023" | "23503"))
                && (db.message().starts_with("invalid workflow: ")
                    || db.message().starts_with("invalid depends_on: "))
            {
                return Error::InvalidJob(db.message().to_string());
            }
            // Values the database rejects before any constraint, in weir's
            // words: the database's own text names its internals.
            if let Some(message) = db.code().as_deref().and_then(value_message) {
                return Error::InvalidJob(message.to_string());
            }
        }
        Error::Database(err)
    }
}

impl Error {
    /// True for errors a client caused (bad input, missing job, conflict).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            Error::InvalidJob(_)
                | Error::InvalidArgument(_)
                | Error::UnknownNode(_)
                | Error::NotFound(_)
                | Error::ScheduleNotFound(_)
                | Error::WorkflowNotFound(_)
                | Error::Conflict(_)
                | Error::IdempotencyKeyReused
        )
    }

    /// True for SQLSTATE 40001: among others, a row lock found the row
    /// already moved to another partition by a concurrent update (a job
    /// claimed and finished meanwhile). Retrying at once is right.
    pub fn is_serialization_failure(&self) -> bool {
        self.has_sqlstate("40001")
    }

    /// True for SQLSTATE 57014: a statement ran past `statement_timeout`
    /// (or was cancelled). Trying again later may work.
    pub fn is_statement_timeout(&self) -> bool {
        self.has_sqlstate("57014")
    }

    /// True for a database error with SQLSTATE `code`.
    pub fn has_sqlstate(&self, code: &str) -> bool {
        matches!(self, Error::Database(e)
            if e.as_database_error().and_then(|d| d.code()).as_deref() == Some(code))
    }

    /// True when the database could not be reached or dropped the
    /// connection: I/O and TLS errors, pool timeouts, SQLSTATE class 08
    /// (connection exception) and 57P01-57P03 (the server is shutting
    /// down, crashed or still starting). Trying again later may work. The
    /// one classification every part of weir uses (API 503s, retries).
    pub fn is_connection_failure(&self) -> bool {
        match self {
            Error::Unavailable(_) => true,
            Error::Database(e) => is_connection_failure(e),
            _ => false,
        }
    }
}

/// [`Error::is_connection_failure`] of a raw sqlx error.
fn is_connection_failure(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || matches!(&*c, "57P01" | "57P02" | "57P03")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failures_to_reach_the_database_count_as_connection_failures() {
        let refused = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(Error::from(sqlx::Error::Io(refused)).is_connection_failure());
        assert!(Error::from(sqlx::Error::PoolTimedOut).is_connection_failure());
        assert!(!Error::from(sqlx::Error::RowNotFound).is_connection_failure());
        assert!(!Error::InvalidJob("no".into()).is_connection_failure());
        assert!(!Error::Config("no".into()).is_connection_failure());
    }
}
