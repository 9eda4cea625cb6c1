//! weir: a background job queue that lives entirely in PostgreSQL.
//!
//! Postgres is the broker and the result backend. Producers insert into
//! `weir.jobs` (from SQL, the REST API or this crate); workers claim with
//! `SELECT ... FOR UPDATE SKIP LOCKED`, wake on `LISTEN/NOTIFY`, and record
//! each outcome once, fenced by a claim token.
//!
//! # Layout
//!
//! - [`job`]: domain types (ids, states, the job object); no SQL.
//! - [`task`]: the [`Task`] trait, the handler's [`JobContext`] and [`JobError`].
//! - [`backoff`]: retry delay policy.
//! - [`client`]: enqueue (alone or in your transaction), read, wait,
//!   follow.
//! - [`events`]: job change notifications over one LISTEN connection,
//!   shared by every wait of a web node or of a [`Client`], and
//!   [`Follow`], the one loop that waits for a job's next change.
//! - [`worker`]: the worker node: listener, claim loops, executions,
//!   batched completer, heartbeats, the supervisor of running attempts
//!   (cancel, jobs taken away).
//! - [`maintenance`]: services run by one elected node (stager, rescuer,
//!   pruner), behind a TTL lease.
//! - [`api`]: the web node: REST API v1 (poem-openapi), problem JSON,
//!   auth, `?wait` and Server-Sent Events (woken by [`events`]), and
//!   the dashboard at `/ui` (assets in `src/api/ui/`).
//! - [`db`]: every SQL statement, one module per table.
//! - [`metrics`]: process counters for `GET /metrics`.
//! - [`config`], [`logging`], [`shutdown`]: process plumbing.
//! - [`demo`]: the built-in demo tasks.
//! - [`bench`](mod@bench): the benchmark behind `weir bench`, one file per scenario.
//! - [`cli`]: the `weir` binary's verbs.
//! - `migrations/`: the schema, embedded and applied by `weir migrate`.
#![forbid(unsafe_code)]

pub mod api;
pub mod backoff;
pub mod bench;
pub mod cli;
pub mod client;
pub mod config;
pub mod db;
pub mod demo;
pub mod error;
pub mod events;
pub mod job;
pub mod logging;
pub mod maintenance;
pub mod metrics;
pub mod shutdown;
pub mod task;
pub mod worker;

pub use client::{Client, enqueue_in, enqueue_many_in};
pub use error::{Error, Result};
pub use events::Follow;
pub use job::{AttemptError, Enqueued, Job, JobId, JobState, NewJob, NodeId, Progress};
pub use task::{JobContext, JobError, Task};
pub use worker::{QueueConfig, Worker, WorkerConfig};
