package strata

import (
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// What the Rust engine counts for the same files (engine/tests/db_spans.rs, the data's
// README): every span of the v1_traces_*.pb payloads, and of those the LLM calls (a request or
// response model; cli/tests/spans_cli.rs counts the same straight from the protobuf).
const (
	wantSpans      = 18097
	wantTraceFiles = 87
	wantLLMSpans   = 9034
)

// otlpDir is the shared data's genai-otlp-openllmetry directory: $STRATA_DATA_DIR (set by
// .ci/ffi.sh), else ../shared/data beside the repository (this package is ffi/go in it).
func otlpDir(t *testing.T) string {
	t.Helper()
	root := os.Getenv("STRATA_DATA_DIR")
	if root == "" {
		root = filepath.Join("..", "..", "..", "shared", "data")
	}
	dir := filepath.Join(root, "genai-otlp-openllmetry")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("OTLP payloads: %v (set STRATA_DATA_DIR to the shared data directory)", err)
	}
	return dir
}

// importAll imports every payload: the v1_traces_* files as traces, the v1_metrics_* files as
// metrics (the OTLP/HTTP paths they were posted to). Returns the spans stored.
func importAll(t *testing.T, db *DB, dir string) uint64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.pb"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no payloads in %s: %v", dir, err)
	}
	sort.Strings(files)
	var spans, points uint64
	traceFiles := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch name := filepath.Base(f); {
		case strings.HasPrefix(name, "v1_traces_"):
			n, err := db.ImportOTLPTraces(b)
			if err != nil || n == 0 {
				t.Fatalf("%s: %d spans, %v", name, n, err)
			}
			spans += n
			traceFiles++
		case strings.HasPrefix(name, "v1_metrics_"):
			r, err := db.ImportOTLPMetrics(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			points += r.Samples + r.Histograms
		default:
			t.Fatalf("unexpected payload %s", f)
		}
	}
	if traceFiles != wantTraceFiles || points == 0 {
		t.Fatalf("%d trace files, %d metric points", traceFiles, points)
	}
	return spans
}

type modelFigures struct{ count, errors, input, output uint64 }

// checkSpans checks find, trace and genai against each other and against the import.
func checkSpans(t *testing.T, db *DB, imported uint64, traceStride int) {
	t.Helper()
	all, err := db.FindSpans(SpanFilter{Limit: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(len(all)) != imported {
		t.Fatalf("FindSpans returned %d spans, %d imported", len(all), imported)
	}
	byTrace := map[string][]SpanHit{}
	byModel := map[string]*modelFigures{}
	seen := map[string]bool{}
	for i, h := range all {
		if len(h.TraceID) != 32 || len(h.SpanID) != 16 || h.Attributes != nil || h.Bucket == "" {
			t.Fatalf("hit %d: %+v", i, h)
		}
		if i > 0 && h.StartNs > all[i-1].StartNs {
			t.Fatalf("hit %d starts after hit %d: not newest first", i, i-1)
		}
		key := h.TraceID + "/" + h.SpanID
		if seen[key] {
			t.Fatalf("span %s twice", key)
		}
		seen[key] = true
		byTrace[h.TraceID] = append(byTrace[h.TraceID], h)
		if h.Model == "" {
			continue
		}
		m := byModel[h.Model]
		if m == nil {
			m = &modelFigures{}
			byModel[h.Model] = m
		}
		m.count++
		if h.Status == "error" || h.ErrorType != "" {
			m.errors++
		}
		if h.InputTokens != nil {
			m.input += *h.InputTokens
		}
		if h.OutputTokens != nil {
			m.output += *h.OutputTokens
		}
	}
	var llm uint64
	for _, m := range byModel {
		llm += m.count
	}
	if llm != wantLLMSpans || len(byModel) < 2 {
		t.Fatalf("%d LLM spans over %d models, want %d", llm, len(byModel), wantLLMSpans)
	}

	// Every trace (every traceStride-th by id, and the largest), whole: the same spans as find
	// saw, parent links inside the trace, one root.
	ids := make([]string, 0, len(byTrace))
	largest := 0
	for id, spans := range byTrace {
		ids = append(ids, id)
		if len(spans) > largest {
			largest = len(spans)
		}
	}
	sort.Strings(ids)
	for i, id := range ids {
		want := byTrace[id]
		if i%traceStride != 0 && len(want) != largest {
			continue
		}
		spans, err := db.Trace(strings.ToUpper(id))
		if err != nil {
			t.Fatal(err)
		}
		if len(spans) != len(want) {
			t.Fatalf("trace %s: %d spans, find saw %d", id, len(spans), len(want))
		}
		inTrace := map[string]bool{}
		for _, s := range spans {
			inTrace[s.SpanID] = true
		}
		roots := 0
		for j, s := range spans {
			if s.TraceID != id || s.Attributes == nil || s.Resource == nil {
				t.Fatalf("trace %s span %d: %+v", id, j, s)
			}
			if j > 0 && s.StartNs < spans[j-1].StartNs {
				t.Fatalf("trace %s not in start order", id)
			}
			if s.ParentSpanID == "" {
				roots++
			} else if !inTrace[s.ParentSpanID] {
				t.Fatalf("trace %s: span %s's parent %s is not in the trace", id, s.SpanID, s.ParentSpanID)
			}
		}
		for _, h := range want {
			if !inTrace[h.SpanID] {
				t.Fatalf("trace %s lacks span %s", id, h.SpanID)
			}
		}
		if roots != 1 {
			t.Fatalf("trace %s: %d roots", id, roots)
		}
		if svc, ok := spans[0].Resource["service.name"].(string); !ok || svc != spans[0].Service {
			t.Fatalf("trace %s: resource service.name %v, service %q", id, spans[0].Resource["service.name"], spans[0].Service)
		}
	}
	if spans, err := db.Trace("0123456789abcdef0123456789abcdef"); err != nil || spans == nil || len(spans) != 0 {
		t.Fatalf("unknown trace: %v %v", spans, err)
	}

	// GenAI by model: exactly the per-model figures of the spans found.
	rows, err := db.GenAI(SpanFilter{}, []string{"model"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(byModel) {
		t.Fatalf("%d rows, %d models", len(rows), len(byModel))
	}
	var sum uint64
	for _, r := range rows {
		m := byModel[r.Group["model"]]
		if m == nil || r.StepStartMs != nil || r.LatencyMs == nil {
			t.Fatalf("row %+v", r)
		}
		got := modelFigures{r.Count, r.Errors, r.InputTokens, r.OutputTokens}
		if got != *m {
			t.Fatalf("model %s: genai %+v, spans %+v", r.Group["model"], got, *m)
		}
		if r.LatencyMs.P50 > r.LatencyMs.P95 || r.LatencyMs.P95 > r.LatencyMs.P99 {
			t.Fatalf("latency percentiles %+v", *r.LatencyMs)
		}
		sum += r.Count
	}
	if sum != llm {
		t.Fatalf("genai counts sum to %d, %d LLM spans", sum, llm)
	}
	rows, err = db.GenAI(SpanFilter{}, []string{"provider", "model"}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	sum = 0
	for _, r := range rows {
		if r.StepStartMs == nil || *r.StepStartMs%60000 != 0 || len(r.Group) != 2 {
			t.Fatalf("stepped row %+v", r)
		}
		sum += r.Count
	}
	if sum != llm || len(rows) <= len(byModel) {
		t.Fatalf("stepped: %d rows summing to %d", len(rows), sum)
	}

	// Filters: one model; errors; a time split; slowest with a minimum.
	for model, m := range byModel {
		hits, err := db.FindSpans(SpanFilter{Model: model, Limit: 1 << 20})
		if err != nil || uint64(len(hits)) != m.count {
			t.Fatalf("model %s: %d spans (%v), want %d", model, len(hits), err, m.count)
		}
	}
	failed, err := db.FindSpans(SpanFilter{Status: SpanStatusError, Limit: 1 << 20})
	if err != nil || len(failed) == 0 {
		t.Fatalf("failed spans: %d %v", len(failed), err)
	}
	for _, h := range failed {
		if h.Status != "error" {
			t.Fatalf("status filter let through %+v", h)
		}
	}
	mid := all[len(all)/2].Start()
	before, err1 := db.FindSpans(SpanFilter{End: mid, Limit: 1 << 20})
	after, err2 := db.FindSpans(SpanFilter{Start: mid, Limit: 1 << 20})
	if err1 != nil || err2 != nil || len(before)+len(after) != len(all) || len(before) == 0 || len(after) == 0 {
		t.Fatalf("split at %v: %d + %d of %d (%v %v)", mid, len(before), len(after), len(all), err1, err2)
	}
	slow, err := db.FindSpans(SpanFilter{Order: OrderSlowest, Limit: 10, MinDuration: time.Millisecond})
	if err != nil || len(slow) != 10 {
		t.Fatalf("slowest: %d %v", len(slow), err)
	}
	for i, h := range slow {
		if h.Duration() < time.Millisecond || (i > 0 && h.Duration() > slow[i-1].Duration()) {
			t.Fatalf("slowest %d: %v", i, h.Duration())
		}
	}
	if def, err := db.FindSpans(SpanFilter{}); err != nil || len(def) != 100 {
		t.Fatalf("default limit: %d %v", len(def), err)
	}
}

// captureNow is the capture's own time, an hour after its newest span (asked of a scratch
// database, whose clock does not matter before a compaction): the test pins the clock there
// so it passes on any date, though the capture grows older every day.
func captureNow(t *testing.T, data string) time.Time {
	// Any clock after the capture: nothing is compacted here, so nothing expires.
	late := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	db := open(t, t.TempDir(), Options{Fsync: FsyncNever, Now: late})
	defer db.Close()
	importAll(t, db, data)
	newest, err := db.FindSpans(SpanFilter{Limit: 1})
	if err != nil || len(newest) != 1 {
		t.Fatalf("newest span: %v %v", newest, err)
	}
	return time.Unix(0, newest[0].StartNs).Add(time.Hour)
}

func TestOTLPSpans(t *testing.T) {
	data := otlpDir(t)
	now := captureNow(t, data)
	dir := t.TempDir()
	db := open(t, dir, Options{Fsync: FsyncNever, Now: now})
	imported := importAll(t, db, data)
	if imported != wantSpans {
		t.Fatalf("imported %d spans, the engine counts %d", imported, wantSpans)
	}
	checkSpans(t, db, imported, 1)
	// Sealed into partitions (a trace read there costs more: a sample of the traces), then
	// from disk after a reopen.
	if _, err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	checkSpans(t, db, imported, 10)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, Options{Now: now})
	defer db.Close()
	checkSpans(t, db, imported, 10)
}

func TestOTLPErrors(t *testing.T) {
	data := otlpDir(t)
	db := open(t, t.TempDir(), Options{Fsync: FsyncNever, Now: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)})
	garbage := []byte{0xff, 0xff, 0xff, 0xff, 0x0f}
	n, err := db.ImportOTLPTraces(garbage)
	if !errors.Is(err, ErrInvalidArgument) || n != 0 || !strings.Contains(err.Error(), "OTLP traces") {
		t.Fatalf("garbage traces: %d %v", n, err)
	}
	if _, err := db.ImportOTLPMetrics(garbage); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "OTLP metrics") {
		t.Fatalf("garbage metrics: %v", err)
	}
	metrics, err := os.ReadFile(filepath.Join(data, "v1_metrics_00000.pb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportOTLPTraces(metrics); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("metrics as traces: %v", err)
	}
	if n, err := db.ImportOTLPTraces(nil); n != 0 || err != nil {
		t.Fatalf("empty traces: %d %v", n, err)
	}
	if r, err := db.ImportOTLPMetrics([]byte{}); r != (OTLPMetricsResult{}) || err != nil {
		t.Fatalf("empty metrics: %+v %v", r, err)
	}
	for _, id := range []string{"", "xyz", strings.Repeat("a", 31), strings.Repeat("a", 33), strings.Repeat("g", 32), "a\x00"} {
		if _, err := db.Trace(id); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("Trace(%q): %v", id, err)
		}
	}
	for _, by := range [][]string{nil, {}, {"colour"}, {"model", "colour"}, {"model,provider"}, {""}} {
		if _, err := db.GenAI(SpanFilter{}, by, 0); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("GenAI by %q: %v", by, err)
		}
	}
	for _, f := range []SpanFilter{{Status: 9}, {Order: -1}, {Limit: -1}, {MinDuration: -time.Second}, {Model: "a\x00b"}, {Service: "\xff"}} {
		if _, err := db.FindSpans(f); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("FindSpans(%+v): %v", f, err)
		}
		if _, err := db.GenAI(f, []string{"model"}, 0); !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("GenAI(%+v): %v", f, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportOTLPTraces(garbage); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := db.FindSpans(SpanFilter{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := db.Trace(strings.Repeat("0", 32)); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	if _, err := db.GenAI(SpanFilter{}, []string{"model"}, 0); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}
