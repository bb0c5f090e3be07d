//! The figures issue 4 asks for, in one run:
//!
//! ```sh
//! cargo run --release -p strata-index --example index_figures [-- SERIES]
//! ```
//!
//! 1M series shaped like LLM telemetry (`strata_index::testing::LlmTelemetry`): build time,
//! memory per series beyond the label strings (as the index reports it, cross-checked with a
//! counting allocator), bytes per series on disk, and the median latency of the 3-matcher
//! select `{service="service-07", model=~"gpt-4.*", provider!="azure"}` on one thread, in
//! memory and from the memory-mapped file. A naive scan over the same label sets is timed as
//! the reference a label index has to beat.

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};
use strata_index::testing::LlmTelemetry;
use strata_index::{DimensionFilter, IndexFile, LabelIndex, Matcher, MemIndex};

/// Counts live heap bytes, so the index's own accounting can be checked against the allocator.
struct Counting;

static LIVE_BYTES: AtomicUsize = AtomicUsize::new(0);

#[allow(
    unsafe_code,
    reason = "a global allocator is unsafe to implement; this one only counts"
)]
// SAFETY: every call is forwarded unchanged to the system allocator, which upholds the
// `GlobalAlloc` contract; the counter is only arithmetic on the sizes passed through.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE_BYTES.fetch_add(layout.size(), Relaxed);
        // SAFETY: same layout contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE_BYTES.fetch_add(new_size, Relaxed);
        LIVE_BYTES.fetch_sub(layout.size(), Relaxed);
        // SAFETY: `ptr` came from `System.alloc` with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Median and 99th percentile of `runs` timed calls, after a warm-up.
fn latency(runs: usize, mut f: impl FnMut() -> u64) -> (Duration, Duration, u64) {
    let mut out = 0;
    for _ in 0..runs.div_ceil(10) {
        out = black_box(f());
    }
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[runs * 99 / 100], out)
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let data = LlmTelemetry::new(n, 42);

    let live_before = LIVE_BYTES.load(Relaxed);
    let t = Instant::now();
    let mut idx = MemIndex::new();
    for i in 0..data.len() {
        idx.get_or_insert(&data.labels(i)).expect("valid labels");
    }
    let build = t.elapsed();
    let live = LIVE_BYTES.load(Relaxed) - live_before;
    let usage = idx.memory_usage();
    let series = idx.len() as f64;

    let query = [
        Matcher::equal("service", "service-07"),
        Matcher::regex("model", "gpt-4.*").expect("valid regex"),
        Matcher::not_equal("provider", "azure"),
    ];
    let (mem_p50, mem_p99, hits) = latency(1001, || idx.select(&query).expect("select").len());

    let dims = DimensionFilter::new()
        .service("service-07")
        .model("gpt-4o")
        .provider("openai");
    let (dim_p50, _, dim_hits) =
        latency(1001, || idx.select_dimensions(&dims).expect("dims").len());

    let t = Instant::now();
    let bytes = idx.encode().expect("encode");
    let encode = t.elapsed();
    let path = std::env::temp_dir().join(format!("strata-index-figures-{}", std::process::id()));
    idx.write_file(&strata_storage::RealFs, &path)
        .expect("write");
    let t = Instant::now();
    let file = IndexFile::open(&strata_storage::RealFs, &path).expect("open");
    let open = t.elapsed();
    let (file_p50, file_p99, file_hits) =
        latency(201, || file.select(&query).expect("select").len());
    assert_eq!((file_hits, dim_hits > 0), (hits, true));

    // The reference: test every series' labels against the matchers.
    let (naive_p50, _, naive_hits) = latency(5, || {
        (0..idx.len() as u32)
            .filter(|&id| {
                let labels: Vec<(&str, &str)> = idx.labels(id).expect("series").collect();
                query.iter().all(|m| {
                    let v = labels
                        .iter()
                        .find(|(n, _)| *n == m.name())
                        .map_or("", |l| l.1);
                    m.matches(v)
                })
            })
            .count() as u64
    });
    assert_eq!(naive_hits, hits);
    std::fs::remove_file(&path).ok();

    println!(
        "strata-index figures: {} series of LLM telemetry (8 labels each), one thread",
        idx.len()
    );
    println!(
        "build (get_or_insert × {n})          {:>10.0} ms  ({:.2} µs/series)",
        build.as_secs_f64() * 1e3,
        us(build) / series
    );
    println!(
        "memory beyond label strings           {:>10.1} B/series  (target ≤ 300; index reports {} B, allocator sees {} B live)",
        usage.bytes_per_id_beyond_strings(),
        usage.total_bytes(),
        live
    );
    println!(
        "  of which series registry / postings / symbols {:.1} / {:.1} / {:.1} B/series; label strings {} B in all",
        usage.series_bytes as f64 / series,
        usage.postings_bytes as f64 / series,
        usage.symbol_overhead_bytes as f64 / series,
        usage.label_string_bytes
    );
    println!(
        "  allocator-measured beyond strings   {:>10.1} B/series",
        (live as f64 - usage.label_string_bytes as f64) / series
    );
    println!(
        "on disk                               {:>10.1} B/series  ({} bytes, encoded in {:.0} ms, opened in {:.1} µs)",
        bytes.len() as f64 / series,
        bytes.len(),
        encode.as_secs_f64() * 1e3,
        us(open)
    );
    println!(
        "3-matcher select, memory: median     {:>10.1} µs  (p99 {:.1} µs, {hits} series; target ≤ 1000 µs)",
        us(mem_p50),
        us(mem_p99)
    );
    println!(
        "3-matcher select, mmap file: median  {:>10.1} µs  (p99 {:.1} µs)",
        us(file_p50),
        us(file_p99)
    );
    println!(
        "service×model×provider select: median {:>9.1} µs  ({dim_hits} series)",
        us(dim_p50)
    );
    println!(
        "naive scan of all label sets: median {:>10.1} µs  ({:.0}× slower than the index)",
        us(naive_p50),
        us(naive_p50) / us(mem_p50)
    );
}
