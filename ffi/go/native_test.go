package strata

import (
	"errors"
	"testing"
)

func TestNativeHistograms(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir, Options{})
	ref, err := db.SeriesRef(L("__name__", "llm_latency_seconds", "model", "gpt-4o"))
	if err != nil {
		t.Fatal(err)
	}
	h := NativeHistogram{Schema: 0, ZeroThreshold: 0.001, ZeroCount: 1, Count: 5, Sum: 7.5,
		PositiveSpans: []BucketSpan{{0, 3}}, PositiveBuckets: []float64{1, 2, 1}}
	if err := db.AppendNativeHistogram(ref, 1_000, h); err != nil {
		t.Fatal(err)
	}
	h.ZeroCount, h.Count, h.Sum, h.PositiveBuckets = 2, 10, 15, []float64{2, 4, 2}
	if err := db.AppendNativeHistogram(ref, 61_000, h); err != nil {
		t.Fatal(err)
	}
	bad := h
	bad.PositiveBuckets = []float64{1}
	if err := db.AppendNativeHistogram(ref, 62_000, bad); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("spans that do not cover the buckets: %v", err)
	}
	bad = h
	bad.CounterResetHint = 9
	if err := db.AppendNativeHistogram(ref, 62_000, bad); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("an unknown hint: %v", err)
	}
	for _, c := range []struct {
		expr string
		want float64
	}{{"histogram_count(llm_latency_seconds)", 10}, {"histogram_sum(llm_latency_seconds)", 15}} {
		got, err := db.Query(c.expr, 61_000, 61_000, 1_000)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || len(got[0].Values) != 1 || got[0].Values[0] != c.want {
			t.Fatalf("%s: %+v, want %v", c.expr, got, c.want)
		}
	}
	// Acknowledged histograms survive a reopen (from the WAL).
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, Options{})
	got, err := db.Query("histogram_count(llm_latency_seconds)", 61_000, 61_000, 1_000)
	if err != nil || len(got) != 1 || got[0].Values[0] != 10 {
		t.Fatalf("after reopen: %+v %v", got, err)
	}
}
