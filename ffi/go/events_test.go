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

// eventsDir is the shared data's genai-otlp-otel-v2-events directory (traces, metrics, logs).
func eventsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(filepath.Dir(otlpDir(t)), "genai-otlp-otel-v2-events")
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("OTLP payloads: %v", err)
	}
	return dir
}

// The capture's 2,277 log records (an independent decode: the capture's expect.json) are
// stored as events, each returned with its span by Trace and by TraceEvents, before and
// after a compaction and a reopen.
func TestOTLPLogs(t *testing.T) {
	data := eventsDir(t)
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	dir := t.TempDir()
	db := open(t, dir, Options{Fsync: FsyncNever, Now: now})
	files, _ := filepath.Glob(filepath.Join(data, "*.pb"))
	sort.Strings(files)
	var events uint64
	var traces []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		switch name := filepath.Base(f); {
		case strings.HasPrefix(name, "v1_traces_"):
			if _, err := db.ImportOTLPTraces(b); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		case strings.HasPrefix(name, "v1_logs_"):
			n, err := db.ImportOTLPLogs(b)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			events += n
		}
	}
	if events != 2277 {
		t.Fatalf("%d events stored, the capture has 2277 log records", events)
	}
	spans, err := db.FindSpans(SpanFilter{Model: "gpt-4o", Limit: 30})
	if err != nil || len(spans) == 0 {
		t.Fatalf("spans: %v %v", spans, err)
	}
	for _, s := range spans {
		traces = append(traces, s.TraceID)
	}
	check := func(what string) {
		for _, id := range traces {
			evs, err := db.TraceEvents(id)
			if err != nil || len(evs) == 0 {
				t.Fatalf("%s: events of %s: %v %v", what, id, evs, err)
			}
			trace, err := db.Trace(id)
			if err != nil {
				t.Fatal(err)
			}
			linked := 0
			for _, s := range trace {
				for _, e := range s.LogEvents {
					if e.SpanID == nil || *e.SpanID != s.SpanID || e.Content["gen_ai.input.messages"] == nil {
						t.Fatalf("%s: event %+v under span %s", what, e, s.SpanID)
					}
					linked++
				}
			}
			if linked != len(evs) {
				t.Fatalf("%s: trace %s: %d events, %d under their spans", what, id, len(evs), linked)
			}
		}
	}
	check("in memory")
	if _, err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, Options{Now: now})
	defer db.Close()
	check("sealed, reopened")
	if _, err := db.ImportOTLPLogs([]byte{0xff, 0xff, 0xff, 0xff, 0x0f}); !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), "OTLP logs") {
		t.Fatalf("garbage logs: %v", err)
	}
	if _, err := db.TraceEvents("xyz"); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad trace id: %v", err)
	}
}
