//! Prometheus matcher edge cases, each checked on the in-memory index and on its file.

use strata_index::{
    Dimension, DimensionAliases, DimensionFilter, IndexFile, LabelIndex, Matcher, MemIndex,
};

/// Ids 0..=6, in this order.
const SERIES: [&[(&str, &str)]; 7] = [
    &[("__name__", "m"), ("a", "1")],
    &[("__name__", "m"), ("a", "2"), ("b", "x")],
    &[("__name__", "m")],
    &[("__name__", "m"), ("a", "日本語")],
    &[("__name__", "m"), ("a", "foo\nbar")],
    &[("__name__", "m"), ("a", "11")],
    &[("__name__", "other"), ("a", "ü"), ("b", "")],
];

fn indexes() -> (MemIndex, IndexFile) {
    let mut mem = MemIndex::new();
    for (i, s) in SERIES.iter().enumerate() {
        assert_eq!(mem.get_or_insert(s).unwrap(), i as u32);
    }
    let file = IndexFile::from_bytes(mem.encode().unwrap()).unwrap();
    (mem, file)
}

fn check(matchers: &[Matcher], want: &[u32]) {
    let (mem, file) = indexes();
    let from_mem: Vec<u32> = mem.select(matchers).unwrap().iter().collect();
    let from_file: Vec<u32> = file.select(matchers).unwrap().iter().collect();
    let shown: Vec<String> = matchers.iter().map(|m| m.to_string()).collect();
    assert_eq!(from_mem, want, "mem {shown:?}");
    assert_eq!(from_file, want, "file {shown:?}");
}

fn eq(n: &str, v: &str) -> Matcher {
    Matcher::equal(n, v)
}
fn ne(n: &str, v: &str) -> Matcher {
    Matcher::not_equal(n, v)
}
fn re(n: &str, v: &str) -> Matcher {
    Matcher::regex(n, v).unwrap()
}
fn nre(n: &str, v: &str) -> Matcher {
    Matcher::not_regex(n, v).unwrap()
}

#[test]
fn empty_value_matchers_see_absent_labels_as_empty() {
    check(&[eq("a", "")], &[2]);
    check(&[ne("a", "")], &[0, 1, 3, 4, 5, 6]);
    check(&[re("a", "")], &[2]);
    check(&[re("a", ".*")], &[0, 1, 2, 3, 4, 5, 6]);
    check(&[re("a", ".+")], &[0, 1, 3, 4, 5, 6]);
    check(&[nre("a", ".+")], &[2]);
    check(&[nre("a", ".*")], &[]);
    check(&[re("a", "1|")], &[0, 2]);
    // `b=""` at insert time was dropped: series 6 has no `b`.
    check(&[eq("b", "")], &[0, 2, 3, 4, 5, 6]);
}

#[test]
fn labels_no_series_has() {
    check(&[eq("nope", "")], &[0, 1, 2, 3, 4, 5, 6]);
    check(&[eq("nope", "x")], &[]);
    check(&[ne("nope", "x")], &[0, 1, 2, 3, 4, 5, 6]);
    check(&[re("nope", "x.*")], &[]);
    check(&[nre("nope", "x.*")], &[0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn regexes_are_fully_anchored() {
    check(&[re("a", "1")], &[0]);
    check(&[re("a", "1+")], &[0, 5]);
    check(&[re("a", "1|2")], &[0, 1]);
    check(&[re("a", ".*1")], &[0, 5]);
    check(&[nre("a", "1")], &[1, 2, 3, 4, 5, 6]);
    check(&[re("a", "foo")], &[]);
    // `.` matches a newline, as in Prometheus (`(?s)`).
    check(&[re("a", "foo.bar")], &[4]);
    check(&[re("a", "foo.*")], &[4]);
}

#[test]
fn unicode_values() {
    check(&[eq("a", "日本語")], &[3]);
    check(&[re("a", "日本.*")], &[3]);
    check(&[re("a", "日.語")], &[3]);
    check(&[re("a", ".")], &[0, 1, 6]);
    check(&[re("a", "ü|日本語")], &[3, 6]);
    check(&[re("a", "(?i)Ü")], &[6]);
}

#[test]
fn matchers_combine_as_an_intersection() {
    check(&[eq("__name__", "m"), ne("a", "1")], &[1, 2, 3, 4, 5]);
    check(&[eq("__name__", "m"), re("a", "1.*"), nre("a", "11")], &[0]);
    check(&[eq("__name__", "m"), eq("b", "x"), re("a", "2|3")], &[1]);
    check(&[eq("__name__", "m"), eq("__name__", "other")], &[]);
    check(&[], &[0, 1, 2, 3, 4, 5, 6]);
}

#[test]
fn autocompletion() {
    let (mem, file) = indexes();
    for idx in [&mem as &dyn LabelIndex, &file] {
        assert_eq!(idx.label_names(&[]).unwrap(), ["__name__", "a", "b"]);
        assert_eq!(
            idx.label_names(&[eq("__name__", "other")]).unwrap(),
            ["__name__", "a"]
        );
        assert_eq!(
            idx.label_values("a", &[]).unwrap(),
            ["1", "11", "2", "foo\nbar", "ü", "日本語"]
        );
        assert_eq!(idx.label_values("a", &[eq("b", "x")]).unwrap(), ["2"]);
        assert!(idx.label_values("nope", &[]).unwrap().is_empty());
        let ids: Vec<u32> = idx.postings("a", "1").unwrap().iter().collect();
        assert_eq!(ids, [0]);
    }
}

#[test]
fn dimensions_span_alias_label_names() {
    let mut mem = MemIndex::new();
    let series: [&[(&str, &str)]; 5] = [
        &[
            ("__name__", "t"),
            ("service.name", "checkout"),
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.provider.name", "openai"),
        ],
        &[
            ("__name__", "t"),
            ("service_name", "checkout"),
            ("model", "gpt-4o"),
            ("gen_ai.system", "openai"),
        ],
        &[
            ("__name__", "t"),
            ("service", "checkout"),
            ("model", "claude-3.5-sonnet"),
            ("provider", "anthropic"),
        ],
        &[
            ("__name__", "t"),
            ("service", "search"),
            ("model_name", "gpt-4o"),
            ("provider", "azure"),
        ],
        &[("__name__", "t"), ("job", "node")],
    ];
    for s in series {
        mem.get_or_insert(s).unwrap();
    }
    let file = IndexFile::from_bytes(mem.encode().unwrap()).unwrap();
    for idx in [&mem as &dyn LabelIndex, &file] {
        let sel = |f: DimensionFilter| {
            idx.select_dimensions(&f)
                .unwrap()
                .iter()
                .collect::<Vec<_>>()
        };
        assert_eq!(sel(DimensionFilter::new().service("checkout")), [0, 1, 2]);
        assert_eq!(
            sel(DimensionFilter::new().service("checkout").model("gpt-4o")),
            [0, 1]
        );
        assert_eq!(
            sel(DimensionFilter::new()
                .service("checkout")
                .model("gpt-4o")
                .provider("openai")),
            [0, 1]
        );
        assert_eq!(
            sel(DimensionFilter::new().model("gpt-4o").provider("azure")),
            [3]
        );
        assert_eq!(
            sel(DimensionFilter::new().provider("mistral_ai")),
            Vec::<u32>::new()
        );
        assert_eq!(sel(DimensionFilter::new()), [0, 1, 2, 3, 4]);
        assert_eq!(
            idx.dimension_values(Dimension::Model, &DimensionFilter::new())
                .unwrap(),
            ["claude-3.5-sonnet", "gpt-4o"]
        );
        // Custom aliases: only `provider` counts.
        let only = DimensionAliases {
            provider: vec!["provider".into()],
            ..DimensionAliases::default()
        };
        assert_eq!(
            sel(DimensionFilter::new()
                .provider("openai")
                .with_aliases(&only)),
            Vec::<u32>::new()
        );
        assert_eq!(
            sel(DimensionFilter::new()
                .provider("anthropic")
                .with_aliases(&only)),
            [2]
        );
    }
}
