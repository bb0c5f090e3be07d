//! Issue 12: OTLP `AnyValue`s nest (arrays of arrays, maps of maps) and the decoder recurses
//! per level; a hostile payload nests 100,000 levels in a few hundred KB. Nesting past the
//! limit is a typed `LimitExceeded`, and values at the limit decode — and render as JSON — on a
//! thread with a 256 KiB stack.

use strata_engine::otlp::{
    DeltaState, Limits, MAX_VALUE_DEPTH, OtlpError, decode_metrics, decode_traces,
    decode_traces_with,
};
use strata_engine::spans::json::{MAX_JSON_DEPTH, TOO_DEEP_MARKER, attr_json, attributes_json};
use strata_engine::spans::{AttrValue, KeyValue};

const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(SMALL_STACK)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

// --- a little protobuf writer -------------------------------------------------------------

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn len_field(out: &mut Vec<u8>, field: u32, body: &[u8]) {
    varint(out, u64::from(field) << 3 | 2);
    varint(out, body.len() as u64);
    out.extend_from_slice(body);
}

fn msg(fields: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (f, b) in fields {
        len_field(&mut out, *f, b);
    }
    out
}

/// An `AnyValue` holding `levels` arrays (or, with `maps`, alternately kvlists) around
/// `int_value: 7`. Built from the inside out in reverse, so 100,000 levels cost O(size), not
/// O(size²) copying.
fn nested_any_value(levels: usize, maps: bool) -> Vec<u8> {
    // Reversed bytes of the message so far; a wrapper is prepended as reversed bytes.
    let mut rev: Vec<u8> = vec![7, 3 << 3]; // AnyValue { int_value (3): 7 }, reversed
    let prepend = |rev: &mut Vec<u8>, field: u32| {
        let mut head = Vec::new();
        varint(&mut head, u64::from(field) << 3 | 2);
        varint(&mut head, rev.len() as u64);
        rev.extend(head.iter().rev());
    };
    for i in 0..levels {
        if maps && i % 2 == 1 {
            // KeyValueList { values (1): KeyValue { key (1): "k", value (2): inner } }
            prepend(&mut rev, 2); // KeyValue.value
            rev.extend_from_slice(&[b'k', 1, 1 << 3 | 2]); // KeyValue.key = "k", reversed
            prepend(&mut rev, 1); // KeyValueList.values
            prepend(&mut rev, 6); // AnyValue.kvlist_value
        } else {
            // ArrayValue { values (1): inner }
            prepend(&mut rev, 1);
            prepend(&mut rev, 5); // AnyValue.array_value
        }
    }
    rev.reverse();
    rev
}

fn key_value(key: &str, any_value: &[u8]) -> Vec<u8> {
    msg(&[(1, key.as_bytes()), (2, any_value)])
}

/// An `ExportTraceServiceRequest` with one span whose attribute `deep` is `any_value`.
fn traces_request(any_value: &[u8]) -> Vec<u8> {
    let mut span = msg(&[(1, &[1; 16]), (2, &[2; 8]), (5, b"s")]);
    len_field(&mut span, 9, &key_value("deep", any_value));
    let scope_spans = msg(&[(2, &span)]);
    let resource_spans = msg(&[(2, &scope_spans)]);
    msg(&[(1, &resource_spans)])
}

/// An `ExportMetricsServiceRequest` whose resource has the attribute `deep`.
fn metrics_request(any_value: &[u8]) -> Vec<u8> {
    let resource = msg(&[(1, &key_value("deep", any_value))]);
    let resource_metrics = msg(&[(1, &resource)]);
    msg(&[(1, &resource_metrics)])
}

/// Levels of arrays and maps in `v`, and the value at the bottom.
fn levels(v: &AttrValue) -> (usize, &AttrValue) {
    match v {
        AttrValue::Array(a) => {
            let (n, leaf) = levels(&a[0]);
            (n + 1, leaf)
        }
        AttrValue::Map(m) => {
            let (n, leaf) = levels(&m[0].value);
            (n + 1, leaf)
        }
        leaf => (0, leaf),
    }
}

fn is_depth_limit(r: Result<impl std::fmt::Debug, OtlpError>, max: usize) {
    match r {
        Err(OtlpError::LimitExceeded {
            what,
            value,
            max: m,
        }) => {
            assert_eq!(what, "levels of nested attribute values");
            assert_eq!((value, m), (max as u64 + 1, max as u64));
        }
        other => panic!("expected LimitExceeded, got {other:?}"),
    }
}

#[test]
fn default_limit_decodes_8_levels_and_refuses_9() {
    let max = Limits::default().max_value_depth;
    assert_eq!(max, 8, "what the span store reads back");
    for maps in [false, true] {
        let spans =
            on_small_stack(move || decode_traces(&traces_request(&nested_any_value(8, maps))))
                .unwrap();
        let deep = &spans[0].attributes[0];
        assert_eq!(deep.key, "deep");
        assert_eq!(levels(&deep.value), (8, &AttrValue::Int(7)));
        is_depth_limit(
            on_small_stack(move || decode_traces(&traces_request(&nested_any_value(9, maps)))),
            8,
        );
    }
    // An empty array one level too deep is refused too: the span store could not read it back.
    let mut empty = Vec::new();
    len_field(&mut empty, 5, &[]);
    let mut v = empty;
    for _ in 0..8 {
        let mut outer = Vec::new();
        len_field(&mut outer, 5, &msg(&[(1, &v)]));
        v = outer;
    }
    is_depth_limit(decode_traces(&traces_request(&v)), 8);
}

#[test]
fn the_hard_cap_decodes_on_a_small_stack() {
    let limits = Limits {
        max_value_depth: usize::MAX,
        ..Limits::default()
    };
    for maps in [false, true] {
        let at = traces_request(&nested_any_value(MAX_VALUE_DEPTH, maps));
        let (depth, json) = on_small_stack(move || {
            let spans = decode_traces_with(&at, &limits).unwrap();
            let v = &spans[0].attributes[0].value;
            // Rendering it as JSON and serialising that also fit.
            let json = serde_json::to_string(&attributes_json(&spans[0].attributes)).unwrap();
            (levels(v).0, json)
        });
        assert_eq!(depth, MAX_VALUE_DEPTH);
        assert!(
            json.contains('7') && !json.contains(TOO_DEEP_MARKER),
            "{json:.200}"
        );
        let over = traces_request(&nested_any_value(MAX_VALUE_DEPTH + 1, maps));
        is_depth_limit(
            on_small_stack(move || decode_traces_with(&over, &limits)),
            MAX_VALUE_DEPTH,
        );
    }
}

#[test]
fn a_hostile_payload_is_refused_on_a_small_stack() {
    // 100,000 levels: 0.8 MB (arrays) to 1.5 MB (maps) of protobuf.
    for maps in [false, true] {
        let payload = nested_any_value(100_000, maps);
        assert!(payload.len() < 2 << 20, "{}", payload.len());
        let traces = traces_request(&payload);
        let metrics = metrics_request(&payload);
        is_depth_limit(on_small_stack(move || decode_traces(&traces)), 8);
        let unlimited = Limits {
            max_value_depth: usize::MAX,
            ..Limits::default()
        };
        let traces = traces_request(&payload);
        is_depth_limit(
            on_small_stack(move || decode_traces_with(&traces, &unlimited)),
            MAX_VALUE_DEPTH,
        );
        is_depth_limit(
            on_small_stack(move || decode_metrics(&metrics, &mut DeltaState::new())),
            8,
        );
    }
    // At the default limit the metrics decoder takes the attribute (as a label).
    let ok = metrics_request(&nested_any_value(8, true));
    on_small_stack(move || decode_metrics(&ok, &mut DeltaState::new())).unwrap();
}

#[test]
fn json_rendering_truncates_past_its_limit_on_a_small_stack() {
    fn nested(n: usize) -> AttrValue {
        let mut v = AttrValue::Str("leaf".into());
        for i in 0..n {
            v = if i % 2 == 0 {
                AttrValue::Array(vec![v])
            } else {
                AttrValue::Map(vec![KeyValue::new("k", v)])
            };
        }
        v
    }
    let (at, over, far) = on_small_stack(|| {
        let render = |n| serde_json::to_string(&attr_json(&nested(n))).unwrap();
        (
            render(MAX_JSON_DEPTH),
            render(MAX_JSON_DEPTH + 1),
            render(501), // same alternation of arrays and maps at the top
        )
    });
    assert!(at.contains("\"leaf\"") && !at.contains(TOO_DEEP_MARKER));
    assert!(over.contains(TOO_DEEP_MARKER) && !over.contains("leaf"));
    let containers = over.replace(TOO_DEEP_MARKER, "");
    assert_eq!(
        containers.matches('[').count() + containers.matches('{').count(),
        MAX_JSON_DEPTH
    );
    assert_eq!(far, over, "everything past the limit is one marker");
}
