package strata

import (
	"errors"
	"strings"
	"testing"
)

func TestExemplarsAndMetadata(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir, Options{})
	ref, err := db.SeriesRef(L("__name__", "llm_latency_seconds_bucket", "le", "1"))
	if err != nil {
		t.Fatal(err)
	}
	ex := Exemplar{Labels: L("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736", "span_id", "00f067aa0ba902b7"), Value: 0.82, TMs: 60_000}
	if err := db.AppendExemplar(ref, ex); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendExemplar(ref, ex); err != nil {
		t.Fatalf("a repeat is accepted: %v", err)
	}
	old := ex
	old.TMs = 1_000
	old.Labels = L("trace_id", "ffffffffffffffffffffffffffffffff")
	if err := db.AppendExemplar(ref, old); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an older exemplar: %v", err)
	}
	long := Exemplar{Labels: L("trace_id", strings.Repeat("a", 200)), Value: 1, TMs: 70_000}
	if err := db.AppendExemplar(ref, long); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("labels over 128 characters: %v", err)
	}
	if err := db.SetMetadata("llm_latency_seconds", Metadata{Type: "histogram", Unit: "seconds", Help: "Model call latency."}); err != nil {
		t.Fatal(err)
	}
	if err := db.SetMetadata("x", Metadata{Type: "bogus"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an unknown type: %v", err)
	}
	if err := db.SetMetadata("y", Metadata{Type: "gauge", Help: strings.Repeat("h", 20_000)}); !errors.Is(err, ErrLimit) {
		t.Fatalf("help over the limit: %v", err)
	}
	check := func(db *DB) {
		t.Helper()
		got, err := db.Exemplars(0, 86_400_000, Matcher{Type: MatchEqual, Name: "__name__", Value: "llm_latency_seconds_bucket"})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0].Exemplars) != 1 || got[0].Labels.Get("le") != "1" {
			t.Fatalf("exemplars: %+v", got)
		}
		e := got[0].Exemplars[0]
		if e.Value != 0.82 || e.TMs != 60_000 || e.Labels.Get("trace_id") != "4bf92f3577b34da6a3ce929d0e0e4736" {
			t.Fatalf("exemplar: %+v", e)
		}
		meta, err := db.Metadata("")
		if err != nil {
			t.Fatal(err)
		}
		if m := meta["llm_latency_seconds"]; m.Type != "histogram" || m.Unit != "seconds" || m.Help != "Model call latency." || len(meta) != 1 {
			t.Fatalf("metadata: %+v", meta)
		}
	}
	check(db)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, Options{})
	defer db.Close()
	check(db)
}
