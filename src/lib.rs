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
//! - [`backoff`]: retry delay policy; [`cron`]: cron schedules (next tick,
//!   time zones, catch-up), parsed by croner.
//! - [`flow`]: flow control: queue limits, the explanation of a waiting
//!   job (domain types; the limits are enforced by the claim in SQL).
//! - [`workflow`]: workflows (jobs wired by `depends_on`), the chain,
//!   group and chord shapes; no SQL.
//! - [`client`]: the one door to every job operation: enqueue (alone, in
//!   your transaction, in batches, with an idempotency key), read, list,
//!   wait and follow, cancel, retry, pause, resume, queue stats, workers.
//!   The web node and the CLI use nothing else.
//! - [`follow`]: following jobs: one LISTEN connection per process fanned
//!   out to every [`Follow`] (`?wait`, event streams, [`Client::wait`]).
//! - [`worker`]: the worker node: listener, claim loops and their wake-up
//!   states, executions, batched completer, heartbeats, the supervisor of
//!   running attempts.
//! - [`maintenance`]: services run by one elected node (stager, rescuer,
//!   pruner, scheduler), behind a TTL lease.
//! - [`setup`]: connect, create the database, apply the migrations.
//! - [`db`]: every SQL statement, one module per table (`db::jobs` one file
//!   per concern).
//! - [`demo`]: the built-in demo tasks of the stock binary.
//! - [`metrics`], [`shutdown`]: process metrics and the shutdown signal.
//! - [`trace`]: the enqueue's trace context, stored with the job and made
//!   the parent of each attempt's span (feature `otel`).
//! - `api` (feature `server`): the web node: REST API v1 (poem-openapi),
//!   problem JSON, auth, `?wait` and Server-Sent Events, the dashboard at
//!   `/ui` (assets in `src/api/ui/`).
//! - `cli`, `config`, `logging`, `bench` (feature `cli`): the `weir`
//!   binary's verbs, its settings, its log output and `weir bench`.
//! - `migrations/`: the schema, embedded and applied by `weir migrate`
//!   (`docs/schema.sql` is its dump).
//!
//! # Features
//!
//! `default = ["server", "cli"]`. With `default-features = false` the crate
//! is the library alone ([`Client`], [`Worker`], [`Task`], the migrations),
//! without poem, clap, the benchmark or the private-Postgres launcher.
//!
//! # Glossary
//!
//! One word per concept, in the code, the schema and the docs:
//!
//! - **job**: one unit of work (`kind` + `args`); **kind**: the name of the
//!   task that runs it; **queue**: a named lane with its own concurrency.
//! - **attempt**: one execution of a job; **claim**: taking available jobs
//!   for an attempt, which issues a **claim token** that fences every
//!   write about the attempt (progress, outcome).
//! - **outcome**: what an attempt ends with (succeeded, failed, retried,
//!   cancelled, handed back); recorded once, by the **completer**.
//! - **wake-up** (`weir.wakeups`): the row an idle worker arms for a queue,
//!   so that the next enqueue there NOTIFYs it (and nobody pays a NOTIFY
//!   when no worker waits).
//! - **follow** (`weir.followed_jobs`, [`Follow`], [`follow::Followers`]):
//!   waiting on one job's changes; followed jobs NOTIFY on change.
//! - **supervisor**: a worker's loop over its running attempts (cancel
//!   requests, attempts that lost their job).
//! - **dependency** (`depends_on`): a job waits in `pending` until the
//!   jobs it depends on (its **parents**) succeeded; a **workflow** is a
//!   set of jobs submitted together, each with a local **ref**.
//! - **rescue**: taking back running jobs whose node died or whose deadline
//!   passed; **staging**: making due scheduled and retryable jobs available.
//! - **leader**: the one node, elected through a lease row, that runs the
//!   maintenance services.
//! - **schedule** (`weir.schedules`): a cron expression in a time zone
//!   that enqueues a job at each **tick**; the **scheduler** (a
//!   maintenance service) enqueues each tick once (`unique_key`
//!   `schedule:<name>:<tick>`).
//! - **snooze**: a handler's "not now": back to `scheduled` for a delay,
//!   the attempt not spent.
#![forbid(unsafe_code)]

#[cfg(feature = "server")]
pub mod api;
pub mod backoff;
#[cfg(feature = "cli")]
pub mod bench;
#[cfg(feature = "cli")]
pub mod cli;
pub mod client;
#[cfg(feature = "cli")]
pub mod config;
pub mod cron;
pub mod db;
pub mod demo;
pub mod error;
pub mod flow;
pub mod follow;
pub mod job;
#[cfg(feature = "cli")]
pub mod logging;
pub mod maintenance;
pub mod metrics;
pub mod setup;
pub mod shutdown;
pub mod task;
pub mod trace;
pub mod worker;
pub mod workflow;

pub use client::{Client, enqueue_in, enqueue_many_in};
pub use error::{Error, Result};
pub use follow::Follow;
pub use job::{AttemptError, Enqueued, Job, JobId, JobState, NewJob, NodeId, Progress, WorkflowId};
pub use task::{JobContext, JobError, Task};
pub use worker::{QueueConfig, Worker, WorkerConfig};
