package strata

/*
#include <stdlib.h>
#include <string.h>
#include "strata.h"
*/
import "C"

import (
	"bytes"
	"encoding/json"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// ImportOTLPTraces imports one OTLP ExportTraceServiceRequest (the protobuf body of an
// OTLP/HTTP POST /v1/traces) and returns the number of spans stored. A payload that does not
// decode is an ErrInvalidArgument carrying the decoder's message; nothing of it is stored.
// An empty payload stores nothing.
func (db *DB) ImportOTLPTraces(payload []byte) (uint64, error) {
	var n C.uint64_t
	var cerr *C.strata_error
	err := takeError(C.strata_db_import_otlp_traces(db.h, bytesPtr(payload), C.size_t(len(payload)), &n, &cerr), cerr)
	runtime.KeepAlive(db)
	return uint64(n), err
}

// OTLPMetricsResult tells what ImportOTLPMetrics stored.
type OTLPMetricsResult struct {
	Samples    uint64 // float samples
	Histograms uint64 // histogram points
	Rejected   uint64 // points refused (out of order, duplicate): not an error
}

// ImportOTLPMetrics imports one OTLP ExportMetricsServiceRequest (the body of POST
// /v1/metrics): points become samples of metric series named as Prometheus' OTLP receiver
// names them.
func (db *DB) ImportOTLPMetrics(payload []byte) (OTLPMetricsResult, error) {
	var r C.strata_otlp_metrics_result
	var cerr *C.strata_error
	err := takeError(C.strata_db_import_otlp_metrics(db.h, bytesPtr(payload), C.size_t(len(payload)), &r, &cerr), cerr)
	runtime.KeepAlive(db)
	return OTLPMetricsResult{Samples: uint64(r.samples), Histograms: uint64(r.histograms), Rejected: uint64(r.rejected)}, err
}

// bytesPtr points C at a byte slice's data for the duration of a call (Go memory without Go
// pointers inside may be passed); nil for an empty slice.
func bytesPtr(b []byte) *C.uint8_t {
	if len(b) == 0 {
		return nil
	}
	return (*C.uint8_t)(unsafe.Pointer(&b[0]))
}

// SpanStatus selects spans by OTLP status.
type SpanStatus int

const (
	SpanStatusAny   SpanStatus = C.STRATA_SPAN_STATUS_ANY
	SpanStatusUnset SpanStatus = C.STRATA_SPAN_STATUS_UNSET
	SpanStatusOK    SpanStatus = C.STRATA_SPAN_STATUS_OK
	SpanStatusError SpanStatus = C.STRATA_SPAN_STATUS_ERROR
)

// SpanOrder is the order of FindSpans' result.
type SpanOrder int

const (
	// OrderNewest: latest start first (the default).
	OrderNewest SpanOrder = C.STRATA_SPAN_ORDER_NEWEST
	// OrderSlowest: longest first.
	OrderSlowest SpanOrder = C.STRATA_SPAN_ORDER_SLOWEST
	// OrderFailedFirst: failed spans (status error or an error.type) first, then slowest.
	OrderFailedFirst SpanOrder = C.STRATA_SPAN_ORDER_FAILED_FIRST
)

// SpanFilter selects spans. The zero value selects every span, newest first, at most 100.
type SpanFilter struct {
	// Spans starting in [Start, End); a zero time leaves that side open.
	Start, End time.Time
	// Exact matches on the GenAI columns; "" means any. Model is the request model, else the
	// response model.
	Service, Model, Provider, Operation, ErrorType string
	Status                                         SpanStatus
	// Spans lasting at least this long; 0 for any.
	MinDuration time.Duration
	// Order and Limit apply to FindSpans only. Limit 0 means 100.
	Order SpanOrder
	Limit int
}

// cFilter copies a filter into C memory (the struct holds string pointers); free releases it.
func cFilter(f SpanFilter) (*C.strata_span_filter, func(), error) {
	if f.Limit < 0 {
		return nil, nil, invalid("span filter limit %d is negative", f.Limit)
	}
	if f.MinDuration < 0 {
		return nil, nil, invalid("span filter minimum duration %v is negative", f.MinDuration)
	}
	strs := []string{f.Service, f.Model, f.Provider, f.Operation, f.ErrorType}
	size := int(unsafe.Sizeof(C.strata_span_filter{}))
	for _, s := range strs {
		if strings.IndexByte(s, 0) >= 0 {
			return nil, nil, invalid("span filter string %q contains a NUL byte", s)
		}
		size += len(s) + 1
	}
	mem := C.malloc(C.size_t(size))
	cf := (*C.strata_span_filter)(mem)
	C.strata_span_filter_default(cf, nil)
	text := unsafe.Slice((*byte)(unsafe.Add(mem, unsafe.Sizeof(C.strata_span_filter{}))), size-int(unsafe.Sizeof(C.strata_span_filter{})))
	off := 0
	put := func(s string) *C.char {
		if s == "" {
			return nil
		}
		p := (*C.char)(unsafe.Pointer(&text[off]))
		off += copy(text[off:], s)
		text[off] = 0
		off++
		return p
	}
	if !f.Start.IsZero() {
		cf.start_ns = C.int64_t(f.Start.UnixNano())
	}
	if !f.End.IsZero() {
		cf.end_ns = C.int64_t(f.End.UnixNano())
	}
	cf.service = put(f.Service)
	cf.model = put(f.Model)
	cf.provider = put(f.Provider)
	cf.operation = put(f.Operation)
	cf.error_type = put(f.ErrorType)
	cf.status = C.uint32_t(f.Status)
	if f.MinDuration > 0 {
		cf.min_duration_ns = C.int64_t(f.MinDuration.Nanoseconds())
	}
	cf.order = C.uint32_t(f.Order)
	if f.Limit > 0 {
		cf.limit = C.size_t(f.Limit)
	}
	return cf, func() { C.free(mem) }, nil
}

// SpanHit is one span found: the hot columns always; Scope, Resource, Attributes, Events,
// Links and Content only from Trace. Absent values are "" or nil. Attribute values are
// strings, bools, json.Number, []interface{} or map[string]interface{} (bytes as hex).
type SpanHit struct {
	TraceID       string  `json:"trace_id"`
	SpanID        string  `json:"span_id"`
	ParentSpanID  string  `json:"parent_span_id"` // "" for a root span
	Name          string  `json:"name"`
	Kind          int     `json:"kind"` // OTLP span kind
	StartNs       int64   `json:"start_ns"`
	EndNs         int64   `json:"end_ns"`
	DurationMs    float64 `json:"duration_ms"`
	Status        string  `json:"status"` // "unset", "ok" or "error"
	StatusMessage string  `json:"status_message"`
	Bucket        string  `json:"bucket"`

	Service         string   `json:"service"`
	Provider        string   `json:"provider"`
	Model           string   `json:"model"` // request model, else response model
	RequestModel    string   `json:"request_model"`
	ResponseModel   string   `json:"response_model"`
	Operation       string   `json:"operation"`
	InputTokens     *uint64  `json:"input_tokens"`
	OutputTokens    *uint64  `json:"output_tokens"`
	CacheReadTokens *uint64  `json:"cache_read_tokens"`
	FinishReasons   string   `json:"finish_reasons"`
	Agent           string   `json:"agent"`
	Tool            string   `json:"tool"`
	ErrorType       string   `json:"error_type"`
	Streaming       *bool    `json:"streaming"`
	TTFTMs          *float64 `json:"ttft_ms"`
	CostUSD         *float64 `json:"cost_usd"`

	Scope      string                 `json:"scope"`
	Resource   map[string]interface{} `json:"resource"`
	Attributes map[string]interface{} `json:"attributes"`
	Events     []SpanEvent            `json:"events"`
	Links      []SpanLink             `json:"links"`
	Content    map[string]interface{} `json:"content"`
	// LogEvents are the OTLP log records (GenAI events) naming this span (Trace only).
	LogEvents []Event `json:"log_events"`
}

// Start is the span's start time.
func (h SpanHit) Start() time.Time { return time.Unix(0, h.StartNs) }

// Duration is the span's duration (0 when its end precedes its start).
func (h SpanHit) Duration() time.Duration {
	if h.EndNs < h.StartNs {
		return 0
	}
	return time.Duration(h.EndNs - h.StartNs)
}

// SpanEvent is an event of a span.
type SpanEvent struct {
	Name       string                 `json:"name"`
	TimeNs     int64                  `json:"time_ns"`
	Attributes map[string]interface{} `json:"attributes"`
}

// SpanLink is a link from a span to another.
type SpanLink struct {
	TraceID    string                 `json:"trace_id"`
	SpanID     string                 `json:"span_id"`
	Attributes map[string]interface{} `json:"attributes"`
}

// Percentiles are nearest-rank percentiles in milliseconds.
type Percentiles struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P95 float64 `json:"p95"`
	P99 float64 `json:"p99"`
}

// AggRow is one group of a GenAI aggregate.
type AggRow struct {
	// One entry per group-by name: the span's value, "" for spans without one.
	Group map[string]string `json:"group"`
	// Start of the step (Unix ms, floored) when the query has a step, else nil.
	StepStartMs     *int64       `json:"step_start_ms"`
	Count           uint64       `json:"count"`
	Errors          uint64       `json:"errors"`
	ErrorRate       float64      `json:"error_rate"`
	InputTokens     uint64       `json:"input_tokens"`
	OutputTokens    uint64       `json:"output_tokens"`
	CacheReadTokens uint64       `json:"cache_read_tokens"`
	CostUSD         float64      `json:"cost_usd"`     // sum of the known costs
	CostUnknown     uint64       `json:"cost_unknown"` // calls without a price or token counts
	LatencyMs       *Percentiles `json:"latency_ms"`
	TTFTMs          *Percentiles `json:"ttft_ms"` // nil when no call reported a first token
}

// takeJSON decodes a JSON string from the library into v and frees it. The decoder reads the
// C memory in place (no copy of the whole document); what it keeps is copied into Go memory.
func takeJSON(s *C.char, v interface{}) error {
	defer C.strata_string_free(&s)
	doc := unsafe.Slice((*byte)(unsafe.Pointer(s)), int(C.strlen(s)))
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return &Error{Code: CodeInternal, Message: "decoding the library's JSON: " + err.Error()}
	}
	return nil
}

// FindSpans returns the spans matching f, in f.Order, at most f.Limit (hot columns only).
func (db *DB) FindSpans(f SpanFilter) ([]SpanHit, error) {
	cf, free, err := cFilter(f)
	if err != nil {
		return nil, err
	}
	defer free()
	var out *C.char
	var cerr *C.strata_error
	err = takeError(C.strata_db_find_spans_json(db.h, cf, &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	hits := []SpanHit{}
	return hits, takeJSON(out, &hits)
}

// Trace returns every span of a trace (32 hex digits), whole, ordered by start time; an
// empty slice when the trace is unknown.
func (db *DB) Trace(traceIDHex string) ([]SpanHit, error) {
	if strings.IndexByte(traceIDHex, 0) >= 0 {
		return nil, invalid("trace id %q contains a NUL byte", traceIDHex)
	}
	cid := C.CString(traceIDHex)
	defer C.free(unsafe.Pointer(cid))
	var out *C.char
	var cerr *C.strata_error
	err := takeError(C.strata_db_trace_json(db.h, cid, &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	hits := []SpanHit{}
	return hits, takeJSON(out, &hits)
}

// GenAI aggregates the LLM calls (spans with a model) matching f, grouped by groupBy
// ("model", "provider", "service", "operation", "agent", "tool"), and per step of span start
// time when step > 0. Rows are sorted by group, then step.
func (db *DB) GenAI(f SpanFilter, groupBy []string, step time.Duration) ([]AggRow, error) {
	for _, g := range groupBy {
		if strings.IndexByte(g, 0) >= 0 || strings.IndexByte(g, ',') >= 0 {
			return nil, invalid("group-by name %q contains a NUL byte or a comma", g)
		}
	}
	cf, free, err := cFilter(f)
	if err != nil {
		return nil, err
	}
	defer free()
	cby := C.CString(strings.Join(groupBy, ","))
	defer C.free(unsafe.Pointer(cby))
	var out *C.char
	var cerr *C.strata_error
	err = takeError(C.strata_db_genai_json(db.h, cf, cby, C.int64_t(step.Nanoseconds()), &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	rows := []AggRow{}
	return rows, takeJSON(out, &rows)
}
