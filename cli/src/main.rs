//! `strata`: the command a new user runs first.

mod annotations;
mod bench;
mod common;
mod demo;
mod events;
mod export;
mod import;
mod mixed_bench;
mod otlp;
mod query;
mod query_json;
mod query_time;
mod spans_bench;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "strata",
    version,
    about = "Strata: embedded time-series and trace storage for LLM observability"
)]
struct Cli {
    /// Pin the clock to this Unix time in ms (default: the system clock).
    ///
    /// Retention, the future-timestamp bound, span sealing, the demo's hour and samples
    /// without a timestamp all read it: import old data at its own date, or replay a day.
    #[arg(long, global = true, value_name = "MS", allow_hyphen_values = true)]
    now: Option<i64>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Import Prometheus text exposition (`name{labels} value ts_ms` lines; `.zst` read directly).
    Import {
        #[arg(long)]
        db: PathBuf,
        /// always | interval | never
        #[arg(long, default_value = "interval")]
        fsync: String,
        /// Refuse samples older than the metrics bucket's retention (by the clock, `--now`)
        /// instead of storing them for the next retention pass to delete.
        #[arg(long)]
        reject_outside_retention: bool,
        /// A file, or `-` for standard input (streamed: committed in batches as it is read).
        file: String,
    },
    /// Export series in the import format: labels sorted, series sorted, floats exact.
    Export {
        #[arg(long)]
        db: PathBuf,
        /// A series selector, e.g. `up{job="node"}` or `{__name__=~"node_.*"}`.
        #[arg(long = "match")]
        selector: Option<String>,
        #[arg(long)]
        start: Option<i64>,
        #[arg(long)]
        end: Option<i64>,
    },
    /// The exemplars of the series a selector matches, as Prometheus'
    /// `/api/v1/query_exemplars` returns them (each `trace_id` resolves with `strata trace`).
    Exemplars {
        #[arg(long)]
        db: PathBuf,
        /// A series selector, e.g. `llm_latency_seconds_bucket{model="gpt-4o"}`.
        selector: String,
        #[arg(long)]
        start: Option<i64>,
        #[arg(long)]
        end: Option<i64>,
    },
    /// Metric type, unit and help per metric name, as Prometheus' `/api/v1/metadata`.
    Metadata {
        #[arg(long)]
        db: PathBuf,
        /// One metric name (default: all).
        #[arg(long)]
        metric: Option<String>,
        /// At most this many metrics.
        #[arg(long)]
        limit: Option<usize>,
    },
    /// Cut the head into blocks, merge blocks, seal span windows and apply retention now
    /// (by the clock: `--now`); prints what retention deleted, per bucket.
    Compact {
        #[arg(long)]
        db: PathBuf,
    },
    /// List the WAL's records, one per line (position, type, series ids, sample counts and
    /// times, markers): for looking into a database that will not open.
    WalDump {
        #[arg(long)]
        db: PathBuf,
    },
    /// Series, samples, blocks and bytes on disk; what retention deleted and what recovery found.
    Stats {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Evaluate a PromQL expression at one instant (`--time`, default: the clock's now, see
    /// `--now`) or at a step over a range (`--start`, `--end`, `--step`).
    Query {
        #[arg(long)]
        db: PathBuf,
        /// Instant query at T: Unix seconds with optional fraction or RFC 3339, as Prometheus'
        /// `time=` (`1790000000.5`, `2026-09-21T14:13:20Z`).
        #[arg(long, value_name = "T", allow_hyphen_values = true,
              conflicts_with_all = ["start", "end", "step"],
              value_parser = query_time::parse_instant)]
        time: Option<i64>,
        /// Range query from: Unix ms or RFC 3339.
        #[arg(long, value_name = "MS|RFC3339", allow_hyphen_values = true,
              requires_all = ["end", "step"], value_parser = query_time::parse_ms_or_rfc3339)]
        start: Option<i64>,
        /// Range query to (inclusive): Unix ms or RFC 3339.
        #[arg(long, value_name = "MS|RFC3339", allow_hyphen_values = true,
              requires_all = ["start", "step"], value_parser = query_time::parse_ms_or_rfc3339)]
        end: Option<i64>,
        /// Range query step: ms or a duration (`15s`, `1m`).
        #[arg(long, value_name = "MS|DURATION",
              requires_all = ["start", "end"], value_parser = query_time::parse_step)]
        step: Option<i64>,
        /// Print the Prometheus HTTP API's response (`status`, `data` with `resultType` and
        /// `result`, `warnings`, `infos`) instead of text.
        #[arg(long)]
        json: bool,
        /// The PromQL expression (may start with `-`, e.g. `-rate(x[5m])`).
        #[arg(allow_hyphen_values = true)]
        expr: String,
    },
    /// Import raw OTLP protobuf payloads (ExportTraceServiceRequest / ExportMetricsServiceRequest /
    /// ExportLogsServiceRequest: `v1_logs_*` files are stored as events).
    ImportOtlp {
        #[arg(long)]
        db: PathBuf,
        /// Refuse spans and metric points older than their bucket's retention (by the clock,
        /// `--now`) instead of storing them for the next retention pass to delete.
        #[arg(long)]
        reject_outside_retention: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Find spans (newest first, `--slowest N`, `--failed`) or a whole trace (`--trace ID`).
    Spans {
        #[arg(long)]
        db: PathBuf,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        #[arg(long)]
        slowest: Option<usize>,
        #[arg(long)]
        failed: bool,
        #[arg(long)]
        trace: Option<String>,
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        operation: Option<String>,
        #[arg(long = "error-type")]
        error_type: Option<String>,
        /// Start of the time range (span start), Unix ms.
        #[arg(long)]
        start: Option<i64>,
        /// End of the time range (exclusive), Unix ms.
        #[arg(long)]
        end: Option<i64>,
        /// Only spans lasting at least this many milliseconds.
        #[arg(long = "min-ms")]
        min_ms: Option<f64>,
        /// An attribute condition (span attribute, else resource attribute, by its text):
        /// `KEY=VALUE`, `KEY!=VALUE`, `KEY=~REGEX`, `KEY!~REGEX`; repeatable (all must hold).
        #[arg(long = "attr")]
        attrs: Vec<String>,
        /// Print JSON (one array of spans) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Events (OTLP log records, GenAI events) by trace, span, service, model, name, time
    /// and attributes, oldest first.
    Events(events::EventsArgs),
    /// Every span of a trace, as a tree of parent links, each with its events.
    Trace {
        #[arg(long)]
        db: PathBuf,
        /// 32 hex digits.
        trace_id: String,
        /// Print JSON (whole spans: attributes, events, links, content, and `log_events`).
        #[arg(long)]
        json: bool,
    },
    /// GenAI aggregates from spans: count, error rate, tokens, cost, latency and TTFT percentiles.
    Genai {
        #[arg(long)]
        db: PathBuf,
        /// model | provider | service | operation | agent | tool (comma-separated for several).
        #[arg(long, default_value = "model")]
        by: String,
        /// Start of the time range (span start), Unix ms.
        #[arg(long)]
        start: Option<i64>,
        /// End of the time range (exclusive), Unix ms.
        #[arg(long)]
        end: Option<i64>,
        /// One row per group and step of this many milliseconds.
        #[arg(long)]
        step: Option<i64>,
        #[arg(long)]
        service: Option<String>,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        provider: Option<String>,
        /// Aggregate every span, not only LLM calls (spans with a model).
        #[arg(long)]
        all: bool,
        #[arg(long)]
        json: bool,
    },
    /// Generate an hour of LLM telemetry, ingest it, and answer the dashboard questions.
    Demo {
        #[arg(long, default_value = "./strata-data")]
        db: PathBuf,
    },
    /// Benchmarks.
    Bench {
        #[command(subcommand)]
        which: BenchCommand,
    },
}

#[derive(Subcommand)]
enum BenchCommand {
    /// The workload of `promtool tsdb bench write`: SERIES series × SCRAPES scrapes 30 s apart,
    /// committed per 1000-series shard. Last line: samples_per_sec=N.
    Write {
        #[arg(long)]
        labels: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        series: usize,
        #[arg(long, default_value_t = 3_000)]
        scrapes: usize,
        #[arg(long, default_value = "interval")]
        fsync: String,
        /// Database directory (default: a fresh temporary directory, removed afterwards).
        #[arg(long)]
        db: Option<PathBuf>,
    },
    /// Decode every sample of a database through `select` (head and blocks).
    Scan {
        #[arg(long)]
        db: PathBuf,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Metric appends from 2 threads at a fixed rate while spans are appended and sealed and
    /// blocks are cut and merged (data time runs SPEEDUP× wall time). Last line:
    /// append_p99_ms=X seal_spans_per_sec=Y.
    Mixed {
        /// Metric series, split between the two writer threads.
        #[arg(long, default_value_t = 4_000)]
        series: usize,
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Data time between two scrapes of a series.
        #[arg(long, default_value_t = 15_000)]
        scrape_ms: i64,
        #[arg(long, default_value_t = 1_000)]
        speedup: i64,
        #[arg(long, default_value_t = 30_000)]
        spans_per_sec: usize,
        #[arg(long, default_value_t = 60)]
        block_minutes: i64,
    },
    /// Generated GenAI agent traces through `append_spans` (WAL on), sealed, then queried:
    /// find, trace by id, per-model aggregate. Last line: spans_per_sec=N.
    Spans {
        #[arg(long, default_value_t = 200_000)]
        count: usize,
        /// Build the database in this (new or empty) directory and keep it, instead of a
        /// temporary one removed at the end.
        #[arg(long)]
        keep: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let now = cli.now;
    let result = match cli.command {
        Command::Import {
            db,
            fsync,
            reject_outside_retention,
            file,
        } => import::run(&db, &fsync, &file, reject_outside_retention, now),
        Command::Export {
            db,
            selector,
            start,
            end,
        } => export::run(&db, selector.as_deref(), start, end, now),
        Command::Exemplars {
            db,
            selector,
            start,
            end,
        } => annotations::exemplars(&db, &selector, start, end, now),
        Command::Metadata { db, metric, limit } => {
            annotations::metadata(&db, metric.as_deref(), limit, now)
        }
        Command::Compact { db } => common::compact(&db, now),
        Command::Stats { db, json } => common::stats(&db, json, now),
        Command::WalDump { db } => common::wal_dump(&db),
        Command::Query {
            db,
            time,
            start,
            end,
            step,
            json,
            expr,
        } => {
            let when = match (start, end, step) {
                (Some(start), Some(end), Some(step)) => query::When::Range { start, end, step },
                _ => query::When::Instant(time),
            };
            query::run(&db, when, &expr, json, now)
        }
        Command::Demo { db } => demo::run(&db, now),
        Command::ImportOtlp {
            db,
            reject_outside_retention,
            files,
        } => otlp::import(&db, &files, reject_outside_retention, now),
        Command::Spans {
            db,
            service,
            model,
            provider,
            slowest,
            failed,
            trace,
            limit,
            operation,
            error_type,
            start,
            end,
            min_ms,
            attrs,
            json,
        } => otlp::query(
            &db,
            now,
            otlp::SpanQuery {
                service,
                model,
                provider,
                operation,
                error_type,
                start,
                end,
                min_ms,
                attrs,
                slowest,
                failed,
                trace,
                limit,
                json,
            },
        ),
        Command::Trace { db, trace_id, json } => otlp::trace(&db, &trace_id, json, now),
        Command::Events(args) => events::run(args, now),
        Command::Genai {
            db,
            by,
            start,
            end,
            step,
            service,
            model,
            provider,
            all,
            json,
        } => otlp::genai(
            &db,
            now,
            otlp::GenAiQuery {
                by,
                start,
                end,
                step,
                service,
                model,
                provider,
                all,
                json,
            },
        ),
        Command::Bench {
            which:
                BenchCommand::Write {
                    labels,
                    series,
                    scrapes,
                    fsync,
                    db,
                },
        } => bench::write(&labels, series, scrapes, &fsync, db.as_deref(), now),
        Command::Bench {
            which: BenchCommand::Scan { db, rounds },
        } => bench::scan(&db, rounds, now),
        Command::Bench {
            which: BenchCommand::Spans { count, keep },
        } => spans_bench::run(count, keep.as_deref(), now),
        Command::Bench {
            which:
                BenchCommand::Mixed {
                    series,
                    seconds,
                    scrape_ms,
                    speedup,
                    spans_per_sec,
                    block_minutes,
                },
        } => mixed_bench::run(&mixed_bench::MixedArgs {
            series,
            seconds,
            scrape_ms,
            speedup,
            spans_per_sec,
            block_minutes,
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our standard output went away (`strata export | head`): what it read
        // was complete lines, and there is no one left to tell. Exit quietly, as Unix tools do
        // (see `common::Out` for why this, and not SIGPIPE).
        Err(e) if common::is_broken_pipe(&*e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e}");
            ExitCode::FAILURE
        }
    }
}
