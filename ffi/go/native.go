package strata

/*
#include <stdlib.h>
#include "strata.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// BucketSpan is a run of Length present buckets, Offset buckets after the previous run (the
// first run: starting at bucket index Offset).
type BucketSpan struct {
	Offset int32
	Length uint32
}

// Counter-reset hints of a native histogram (Prometheus' numbering).
const (
	HintUnknown      uint8 = 0
	HintCounterReset uint8 = 1
	HintNotReset     uint8 = 2
	HintGauge        uint8 = 3
)

// NativeHistogram is one sample of Prometheus' sparse histograms: exponential buckets of a
// schema (-4…8) or custom buckets (schema -53, CustomValues the upper bounds). Bucket counts
// are absolute, one per present bucket in index order.
type NativeHistogram struct {
	Schema                int32
	CounterResetHint      uint8
	ZeroThreshold         float64
	ZeroCount, Count, Sum float64
	PositiveSpans         []BucketSpan
	PositiveBuckets       []float64
	NegativeSpans         []BucketSpan
	NegativeBuckets       []float64
	CustomValues          []float64
}

// AppendNativeHistogram appends a native histogram sample to a native histogram series
// (query it with PromQL: histogram_count, histogram_quantile, rate, …).
func (db *DB) AppendNativeHistogram(ref SeriesRef, tMs int64, h NativeHistogram) error {
	// The struct holds pointers, so it and its arrays live in C memory for the call.
	spans := len(h.PositiveSpans) + len(h.NegativeSpans)
	floats := len(h.PositiveBuckets) + len(h.NegativeBuckets) + len(h.CustomValues)
	size := unsafe.Sizeof(C.strata_native_histogram{}) + uintptr(8*spans+8*floats) + 8
	mem := C.malloc(C.size_t(size))
	defer C.free(mem)
	ch := (*C.strata_native_histogram)(mem)
	next := unsafe.Add(mem, unsafe.Sizeof(C.strata_native_histogram{}))
	putSpans := func(s []BucketSpan) *C.strata_bucket_span {
		if len(s) == 0 {
			return nil
		}
		out := unsafe.Slice((*C.strata_bucket_span)(next), len(s))
		for i, x := range s {
			out[i] = C.strata_bucket_span{offset: C.int32_t(x.Offset), length: C.uint32_t(x.Length)}
		}
		next = unsafe.Add(next, 8*len(s))
		return &out[0]
	}
	putFloats := func(v []float64) *C.double {
		if len(v) == 0 {
			return nil
		}
		out := unsafe.Slice((*C.double)(next), len(v))
		for i, x := range v {
			out[i] = C.double(x)
		}
		next = unsafe.Add(next, 8*len(v))
		return &out[0]
	}
	*ch = C.strata_native_histogram{
		schema:                C.int32_t(h.Schema),
		counter_reset_hint:    C.uint8_t(h.CounterResetHint),
		zero_threshold:        C.double(h.ZeroThreshold),
		zero_count:            C.double(h.ZeroCount),
		count:                 C.double(h.Count),
		sum:                   C.double(h.Sum),
		positive_span_count:   C.size_t(len(h.PositiveSpans)),
		positive_bucket_count: C.size_t(len(h.PositiveBuckets)),
		negative_span_count:   C.size_t(len(h.NegativeSpans)),
		negative_bucket_count: C.size_t(len(h.NegativeBuckets)),
		custom_value_count:    C.size_t(len(h.CustomValues)),
	}
	ch.positive_spans = putSpans(h.PositiveSpans)
	ch.negative_spans = putSpans(h.NegativeSpans)
	ch.positive_buckets = putFloats(h.PositiveBuckets)
	ch.negative_buckets = putFloats(h.NegativeBuckets)
	ch.custom_values = putFloats(h.CustomValues)
	var cerr *C.strata_error
	err := takeError(C.strata_db_append_native_histogram(db.h, C.uint64_t(ref), C.int64_t(tMs), ch, &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}
