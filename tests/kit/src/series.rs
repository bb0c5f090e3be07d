//! Generated series: [`LlmMetrics`], the Prometheus scrape of an LLM gateway — per service ×
//! model, request and error counters, input/output token counters, classic latency and
//! time-to-first-token histograms (OTel GenAI buckets 0.01 … 81.92 s), and the GPU gauges of
//! a self-hosted model. Seeded: the same seed, specs and loads give the same samples (the
//! data of `strata demo` and of the query bench).
//!
//! Label sets at scale (a million series for the index) are `strata_index::testing::LlmTelemetry`:
//! the index's own tests and figures use it, and the index sits below the kit.

use crate::rng::{Draw, XorShift};
use crate::spans::ModelSpec;

/// A series' labels, `__name__` included.
pub type Labels = Vec<(String, String)>;

/// `gen_ai.client.operation.duration` bucket bounds in seconds: 0.01 × 2^k (and `+Inf`).
pub const DURATION_BOUNDS: [f64; 14] = [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

const BUCKETS: usize = DURATION_BOUNDS.len() + 1;

/// Cumulative state of one (service, model) pair.
#[derive(Debug, Clone, Default)]
struct Pair {
    model: usize,
    requests: f64,
    errors_rate_limit: f64,
    errors_server: f64,
    input_tokens: f64,
    output_tokens: f64,
    latency: [f64; BUCKETS],
    latency_sum: f64,
    ttft: [f64; BUCKETS],
    ttft_sum: f64,
}

fn observe(buckets: &mut [f64; BUCKETS], v: f64) {
    let i = DURATION_BOUNDS
        .iter()
        .position(|&b| v <= b)
        .unwrap_or(DURATION_BOUNDS.len());
    buckets[i] += 1.0;
}

fn with(base: &[(String, String)], name: &str, extra: &[(&str, &str)]) -> Labels {
    let mut l = base.to_vec();
    l.push(("__name__".into(), name.into()));
    l.extend(extra.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    l
}

/// The two histograms of a pair: metric name, buckets, sum.
fn histograms(p: &Pair) -> [(&'static str, &[f64; BUCKETS], f64); 2] {
    [
        (
            "gen_ai_client_operation_duration_seconds",
            &p.latency,
            p.latency_sum,
        ),
        (
            "gen_ai_server_time_to_first_token_seconds",
            &p.ttft,
            p.ttft_sum,
        ),
    ]
}

/// Seeded scrapes of an LLM gateway; see the module docs. Call [`LlmMetrics::scrape`] once
/// per scrape interval, then read [`LlmMetrics::values`] in the order of
/// [`LlmMetrics::labels`].
#[derive(Debug, Clone)]
pub struct LlmMetrics {
    rng: XorShift,
    models: Vec<ModelSpec>,
    /// Per pair: its service's index and its `service`, `model`, `provider` labels.
    pair_labels: Vec<(usize, Labels)>,
    pairs: Vec<Pair>,
    gpu_util: f64,
    gpu_mem: f64,
    labels: Vec<Labels>,
}

impl LlmMetrics {
    /// Every service calling every model (service-major), drawn from `seed`.
    pub fn new(seed: u64, services: &[&str], models: &[ModelSpec]) -> LlmMetrics {
        let mut pair_labels = Vec::new();
        let mut pairs = Vec::new();
        for (si, s) in services.iter().enumerate() {
            for (mi, &(m, p, ..)) in models.iter().enumerate() {
                let labels = vec![
                    ("service".into(), (*s).into()),
                    ("model".into(), m.into()),
                    ("provider".into(), p.into()),
                ];
                pair_labels.push((si, labels));
                pairs.push(Pair {
                    model: mi,
                    ..Pair::default()
                });
            }
        }
        let mut g = LlmMetrics {
            rng: XorShift::new(seed),
            models: models.to_vec(),
            pair_labels,
            pairs,
            gpu_util: 0.0,
            gpu_mem: 0.0,
            labels: Vec::new(),
        };
        g.labels = g.series_labels();
        g
    }

    fn series_labels(&self) -> Vec<Labels> {
        let mut out = Vec::new();
        for (p, (_, l)) in self.pairs.iter().zip(&self.pair_labels) {
            out.push(with(l, "llm_requests_total", &[]));
            out.push(with(l, "llm_errors_total", &[("error_type", "rate_limit")]));
            out.push(with(
                l,
                "llm_errors_total",
                &[("error_type", "server_error")],
            ));
            out.push(with(l, "llm_input_tokens_total", &[]));
            out.push(with(l, "llm_output_tokens_total", &[]));
            for (name, ..) in histograms(p) {
                for i in 0..BUCKETS {
                    let le = DURATION_BOUNDS
                        .get(i)
                        .map_or("+Inf".to_owned(), |b| b.to_string());
                    out.push(with(l, &format!("{name}_bucket"), &[("le", &le)]));
                }
                out.push(with(l, &format!("{name}_sum"), &[]));
                out.push(with(l, &format!("{name}_count"), &[]));
            }
        }
        let gpu = vec![
            ("service".to_owned(), "inference".to_owned()),
            ("gpu".to_owned(), "0".to_owned()),
        ];
        out.push(with(&gpu, "DCGM_FI_DEV_GPU_UTIL", &[]));
        out.push(with(&gpu, "DCGM_FI_DEV_FB_USED", &[]));
        out
    }

    /// Every series, in a fixed order (that of [`LlmMetrics::values`]).
    pub fn labels(&self) -> &[Labels] {
        &self.labels
    }

    /// One scrape interval of traffic at `load` (1 is normal): each pair serves
    /// `load × (2 … 6)` requests; rate limits grow with the load, latencies a little too.
    pub fn scrape(&mut self, load: f64) {
        for p in &mut self.pairs {
            let (_, _, lat, ttft, out_tokens, ..) = self.models[p.model];
            let n = (load * (2.0 + 4.0 * self.rng.next_f64())).round();
            for _ in 0..n as usize {
                p.requests += 1.0;
                let r = self.rng.next_f64();
                if r < 0.01 * load {
                    p.errors_rate_limit += 1.0;
                    continue;
                } else if r < 0.01 * load + 0.005 {
                    p.errors_server += 1.0;
                    continue;
                }
                let l = self.rng.lognormal(lat * (0.8 + 0.2 * load), 0.45);
                let f = self.rng.lognormal(ttft, 0.35).min(l);
                observe(&mut p.latency, l);
                observe(&mut p.ttft, f);
                p.latency_sum += l;
                p.ttft_sum += f;
                p.input_tokens += (800.0 + 1600.0 * self.rng.next_f64()).round();
                p.output_tokens += self.rng.lognormal(out_tokens, 0.5).round();
            }
        }
        self.gpu_util = (55.0 + 30.0 * (load - 1.0) + 10.0 * self.rng.next_f64())
            .clamp(0.0, 100.0)
            .round();
        self.gpu_mem = (61_000.0 + 4_000.0 * self.rng.next_f64()).round();
    }

    /// A process restart of service `service` (its index in `new`'s list): its counters and
    /// histograms start again from zero.
    pub fn restart(&mut self, service: usize) {
        for (p, (s, _)) in self.pairs.iter_mut().zip(&self.pair_labels) {
            if *s == service {
                *p = Pair {
                    model: p.model,
                    ..Pair::default()
                };
            }
        }
    }

    /// The value of every series after the scrapes so far, in the order of `labels`.
    pub fn values(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(self.labels.len());
        for p in &self.pairs {
            out.extend([
                p.requests,
                p.errors_rate_limit,
                p.errors_server,
                p.input_tokens,
                p.output_tokens,
            ]);
            for (_, buckets, sum) in histograms(p) {
                let mut cumulative = 0.0;
                for c in buckets {
                    cumulative += c;
                    out.push(cumulative);
                }
                out.push(sum);
                out.push(cumulative);
            }
        }
        out.push(self.gpu_util);
        out.push(self.gpu_mem);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spans::BENCH_MODELS;

    #[test]
    fn counters_grow_and_restart() {
        let mut g = LlmMetrics::new(3, &["a", "b"], &BENCH_MODELS[..2]);
        assert_eq!(g.labels().len(), 4 * (5 + 2 * (BUCKETS + 2)) + 2);
        g.scrape(1.0);
        let first = g.values();
        assert_eq!(first.len(), g.labels().len());
        g.scrape(2.0);
        let second = g.values();
        assert!(first[0] > 0.0 && second[0] > first[0]);
        // Bucket counts are cumulative and end at the count.
        let count_at = 5 + BUCKETS + 1;
        assert_eq!(second[5 + BUCKETS - 1], second[count_at]);
        g.restart(0);
        let after = g.values();
        assert_eq!(after[0], 0.0);
        let b = 2 * (5 + 2 * (BUCKETS + 2));
        assert_eq!(after[b], second[b], "service b keeps its counters");
        let mut again = LlmMetrics::new(3, &["a", "b"], &BENCH_MODELS[..2]);
        again.scrape(1.0);
        assert_eq!(again.values(), first);
    }
}
