// Package strata is the Go binding of Strata, an embedded time-series storage engine, over
// its C ABI (libstrata, header ffi/include/strata.h).
//
// Build: the package links -lstrata. By default it looks in the workspace's target/release
// (build it with `cargo build --release -p strata-ffi`); elsewhere set
// CGO_LDFLAGS="-L/path/to/lib -Wl,-rpath,/path/to/lib".
//
// A DB may be used from many goroutines at once. An Appender belongs to one goroutine.
// Timestamps are milliseconds since the Unix epoch. Errors are *Error values carrying a Code;
// compare with errors.Is(err, strata.ErrOutOfOrder) and friends.
package strata

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: -L${SRCDIR}/../../target/release -Wl,-rpath,${SRCDIR}/../../target/release -lstrata
#include <stdlib.h>
#include "strata.h"
*/
import "C"

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// Version is the version of the linked library, "MAJOR.MINOR.PATCH".
func Version() string { return C.GoString(C.strata_version()) }

// HeaderVersion is the version of the header this package was compiled against.
const HeaderVersion = C.STRATA_VERSION

// Code is a status code of the C API. The values are stable.
type Code int

// The status codes (strata_status in strata.h).
const (
	CodeOK                 Code = C.STRATA_OK
	CodeInvalidArgument    Code = C.STRATA_ERR_INVALID_ARGUMENT
	CodeIO                 Code = C.STRATA_ERR_IO
	CodeLocked             Code = C.STRATA_ERR_LOCKED
	CodeClosed             Code = C.STRATA_ERR_CLOSED
	CodeCorrupt            Code = C.STRATA_ERR_CORRUPT
	CodeOutOfOrder         Code = C.STRATA_ERR_OUT_OF_ORDER
	CodeDuplicateTimestamp Code = C.STRATA_ERR_DUPLICATE_TIMESTAMP
	CodeTooOld             Code = C.STRATA_ERR_TOO_OLD
	CodeKindMismatch       Code = C.STRATA_ERR_KIND_MISMATCH
	CodeUnknownSeries      Code = C.STRATA_ERR_UNKNOWN_SERIES
	CodeQueryParse         Code = C.STRATA_ERR_QUERY_PARSE
	CodeQueryUnsupported   Code = C.STRATA_ERR_QUERY_UNSUPPORTED
	CodeLimit              Code = C.STRATA_ERR_LIMIT
	CodePanic              Code = C.STRATA_ERR_PANIC
	CodeInternal           Code = C.STRATA_ERR_INTERNAL
	CodeTooNew             Code = C.STRATA_ERR_TOO_NEW
	CodeOutsideRetention   Code = C.STRATA_ERR_OUTSIDE_RETENTION
)

// String is the C name of the code, e.g. "STRATA_ERR_CLOSED".
func (c Code) String() string { return C.GoString(C.strata_status_name(C.int32_t(c))) }

// Error is every error this package returns.
type Error struct {
	Code    Code
	Message string
}

func (e *Error) Error() string { return "strata: " + e.Message }

// Is reports whether target is an *Error with the same Code, so that
// errors.Is(err, strata.ErrClosed) works whatever the message.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument    = &Error{Code: CodeInvalidArgument, Message: "invalid argument"}
	ErrIO                 = &Error{Code: CodeIO, Message: "i/o error"}
	ErrLocked             = &Error{Code: CodeLocked, Message: "database locked"}
	ErrClosed             = &Error{Code: CodeClosed, Message: "database closed"}
	ErrCorrupt            = &Error{Code: CodeCorrupt, Message: "corrupt"}
	ErrOutOfOrder         = &Error{Code: CodeOutOfOrder, Message: "out of order"}
	ErrDuplicateTimestamp = &Error{Code: CodeDuplicateTimestamp, Message: "duplicate timestamp"}
	ErrTooOld             = &Error{Code: CodeTooOld, Message: "too old"}
	ErrKindMismatch       = &Error{Code: CodeKindMismatch, Message: "kind mismatch"}
	ErrUnknownSeries      = &Error{Code: CodeUnknownSeries, Message: "unknown series"}
	ErrQueryParse         = &Error{Code: CodeQueryParse, Message: "query parse error"}
	ErrQueryUnsupported   = &Error{Code: CodeQueryUnsupported, Message: "unsupported query"}
	ErrLimit              = &Error{Code: CodeLimit, Message: "limit exceeded"}
	ErrTooNew             = &Error{Code: CodeTooNew, Message: "too far in the future"}
	ErrOutsideRetention   = &Error{Code: CodeOutsideRetention, Message: "outside retention"}
)

// takeError turns a status and error object into a Go error, freeing the object.
func takeError(st C.enum_strata_status, cerr *C.strata_error) error {
	if st == C.STRATA_OK {
		if cerr != nil {
			C.strata_error_free(&cerr)
		}
		return nil
	}
	e := &Error{Code: Code(st), Message: Code(st).String()}
	if cerr != nil {
		e.Message = C.GoString(C.strata_error_message(cerr))
		C.strata_error_free(&cerr)
	}
	return e
}

func invalid(format string, args ...interface{}) error {
	return &Error{Code: CodeInvalidArgument, Message: fmt.Sprintf(format, args...)}
}

// FsyncPolicy says when a commit is acknowledged relative to fsync.
type FsyncPolicy int

const (
	// FsyncInterval (the default): a background fsync every Options.FsyncInterval (default
	// 1 s); a power loss loses at most that window, a process crash nothing acknowledged.
	FsyncInterval FsyncPolicy = iota
	// FsyncAlways: every commit returns after an fsync covering it.
	FsyncAlways
	// FsyncNever: the operating system decides.
	FsyncNever
)

// Options for Open. The zero value means the defaults.
type Options struct {
	Fsync            FsyncPolicy
	FsyncInterval    time.Duration // default 1 s
	BlockDuration    time.Duration // default 2 h
	Retention        time.Duration // default 15 months
	OutOfOrderWindow time.Duration // default 0: out-of-order samples are refused
	WALSalvage       bool          // open a damaged WAL by skipping damaged records
	// Now pins the database's clock (retention, the future bound, span sealing) at this
	// time; the zero value reads the system clock. For tests and replays of old data.
	Now time.Time
	// FutureTolerance: samples and spans further ahead of the clock are refused
	// (ErrTooNew); 0 means the default, 10 minutes.
	FutureTolerance time.Duration
	// RejectOutsideRetention refuses data older than its bucket's retention
	// (ErrOutsideRetention) instead of storing and counting it.
	RejectOutsideRetention bool
}

// Label is one name="value" pair.
type Label struct {
	Name, Value string
}

// Labels is a label set; order does not matter. It needs a "__name__" label.
type Labels []Label

// L builds Labels from alternating names and values: L("__name__", "x", "model", "gpt-4o").
func L(pairs ...string) Labels {
	out := make(Labels, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		out = append(out, Label{pairs[i], pairs[i+1]})
	}
	return out
}

// Get returns the value of a label, "" if absent.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// SeriesRef identifies a series; stable across restarts of the same directory.
type SeriesRef uint64

// DB is an open database. Safe for concurrent use. Close it; a finalizer closes and frees a
// DB that becomes unreachable, as a safety net only.
type DB struct {
	h *C.strata_db
}

// Open opens (creating if needed) the database in dir.
func Open(dir string, opts Options) (*DB, error) {
	if dir == "" || strings.IndexByte(dir, 0) >= 0 {
		return nil, invalid("dir %q is empty or contains NUL", dir)
	}
	var co C.strata_options
	C.strata_options_default(&co, nil)
	switch opts.Fsync {
	case FsyncInterval:
		co.fsync = C.STRATA_FSYNC_INTERVAL
	case FsyncAlways:
		co.fsync = C.STRATA_FSYNC_ALWAYS
	case FsyncNever:
		co.fsync = C.STRATA_FSYNC_NEVER
	default:
		return nil, invalid("unknown fsync policy %d", opts.Fsync)
	}
	if opts.FsyncInterval != 0 {
		co.fsync_interval_ms = C.uint64_t(opts.FsyncInterval.Milliseconds())
	}
	if opts.BlockDuration != 0 {
		co.block_duration_ms = C.int64_t(opts.BlockDuration.Milliseconds())
	}
	if opts.Retention != 0 {
		co.retention_ms = C.int64_t(opts.Retention.Milliseconds())
	}
	co.out_of_order_window_ms = C.int64_t(opts.OutOfOrderWindow.Milliseconds())
	if opts.WALSalvage {
		co.wal_salvage = 1
	}
	if !opts.Now.IsZero() {
		co.clock_fixed_ms = C.int64_t(opts.Now.UnixMilli())
	}
	if opts.FutureTolerance != 0 {
		co.future_tolerance_ms = C.int64_t(opts.FutureTolerance.Milliseconds())
	}
	if opts.RejectOutsideRetention {
		co.reject_outside_retention = 1
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var h *C.strata_db
	var cerr *C.strata_error
	if err := takeError(C.strata_db_open(cdir, &co, &h, &cerr), cerr); err != nil {
		return nil, err
	}
	db := &DB{h: h}
	runtime.SetFinalizer(db, func(db *DB) { C.strata_db_free(&db.h) })
	return db, nil
}

// Close syncs and closes the database and releases its directory. Calls after Close return
// ErrClosed; closing twice is fine.
func (db *DB) Close() error {
	var cerr *C.strata_error
	err := takeError(C.strata_db_close(db.h, &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// cLabels copies labels into one C allocation: names array, values array, then the strings.
func cLabels(labels Labels) (names, values **C.char, free func(), err error) {
	n := len(labels)
	if n == 0 {
		return nil, nil, func() {}, nil
	}
	size := 2 * n * int(unsafe.Sizeof(uintptr(0)))
	for _, l := range labels {
		if strings.IndexByte(l.Name, 0) >= 0 || strings.IndexByte(l.Value, 0) >= 0 {
			return nil, nil, nil, invalid("label %q contains a NUL byte", l.Name)
		}
		size += len(l.Name) + len(l.Value) + 2
	}
	mem := C.malloc(C.size_t(size))
	ptrs := unsafe.Slice((**C.char)(mem), 2*n)
	bytes := unsafe.Slice((*byte)(unsafe.Add(mem, 2*n*int(unsafe.Sizeof(uintptr(0))))), size-2*n*int(unsafe.Sizeof(uintptr(0))))
	off := 0
	put := func(s string) *C.char {
		p := (*C.char)(unsafe.Pointer(&bytes[off]))
		off += copy(bytes[off:], s)
		bytes[off] = 0
		off++
		return p
	}
	for i, l := range labels {
		ptrs[i] = put(l.Name)
		ptrs[n+i] = put(l.Value)
	}
	return &ptrs[0], &ptrs[n], func() { C.free(mem) }, nil
}

// SeriesRef returns the reference of the series with these labels, creating it if new.
func (db *DB) SeriesRef(labels Labels) (SeriesRef, error) {
	names, values, free, err := cLabels(labels)
	if err != nil {
		return 0, err
	}
	defer free()
	var ref C.uint64_t
	var cerr *C.strata_error
	err = takeError(C.strata_db_series_ref(db.h, names, values, C.size_t(len(labels)), &ref, &cerr), cerr)
	runtime.KeepAlive(db)
	return SeriesRef(ref), err
}

// Append appends one sample to the series with these labels (convenient; AppendBatch is the
// fast path).
func (db *DB) Append(labels Labels, tMs int64, value float64) error {
	names, values, free, err := cLabels(labels)
	if err != nil {
		return err
	}
	defer free()
	var cerr *C.strata_error
	err = takeError(C.strata_db_append(db.h, names, values, C.size_t(len(labels)), C.int64_t(tMs), C.double(value), &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// AppendRef appends one sample by reference.
func (db *DB) AppendRef(ref SeriesRef, tMs int64, value float64) error {
	var cerr *C.strata_error
	err := takeError(C.strata_db_append_ref(db.h, C.uint64_t(ref), C.int64_t(tMs), C.double(value), &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// BatchResult tells what happened to a batch.
type BatchResult struct {
	Accepted      int
	Rejected      int
	FirstRejected int // index of the first refused sample, when Rejected > 0
}

// AppendBatch appends sample i = (ts[i], vals[i]) to series refs[i], committed together. When
// some samples are refused the rest are still stored; the error is then the first refusal's
// (e.g. errors.Is(err, ErrOutOfOrder)) and the result tells how many. Any other error means
// nothing was acknowledged.
func (db *DB) AppendBatch(refs []SeriesRef, ts []int64, vals []float64) (BatchResult, error) {
	if len(refs) != len(ts) || len(refs) != len(vals) {
		return BatchResult{}, invalid("batch lengths differ: %d refs, %d timestamps, %d values", len(refs), len(ts), len(vals))
	}
	var r C.strata_batch_result
	var cerr *C.strata_error
	var pr *C.uint64_t
	var pt *C.int64_t
	var pv *C.double
	if len(refs) > 0 {
		// Go memory without Go pointers inside: may be passed to C for the call.
		pr = (*C.uint64_t)(unsafe.Pointer(&refs[0]))
		pt = (*C.int64_t)(unsafe.Pointer(&ts[0]))
		pv = (*C.double)(unsafe.Pointer(&vals[0]))
	}
	err := takeError(C.strata_db_append_batch(db.h, pr, pt, pv, C.size_t(len(refs)), &r, &cerr), cerr)
	runtime.KeepAlive(db)
	return BatchResult{Accepted: int(r.accepted), Rejected: int(r.rejected), FirstRejected: int(r.first_rejected_index)}, err
}

// Appender buffers samples and appends them as columnar batches. Not safe for concurrent
// use; use one per goroutine.
type Appender struct {
	db   *DB
	refs []SeriesRef
	ts   []int64
	vals []float64
}

// Appender returns a new appender on db.
func (db *DB) Appender() *Appender { return &Appender{db: db} }

// Add buffers one sample.
func (a *Appender) Add(ref SeriesRef, tMs int64, value float64) {
	a.refs = append(a.refs, ref)
	a.ts = append(a.ts, tMs)
	a.vals = append(a.vals, value)
}

// Len is the number of buffered samples.
func (a *Appender) Len() int { return len(a.refs) }

// Flush appends the buffered samples as one batch and empties the buffer (whatever the
// outcome: see AppendBatch).
func (a *Appender) Flush() (BatchResult, error) {
	r, err := a.db.AppendBatch(a.refs, a.ts, a.vals)
	a.refs, a.ts, a.vals = a.refs[:0], a.ts[:0], a.vals[:0]
	return r, err
}

// Histogram is one explicit-bucket histogram sample.
type Histogram struct {
	Bounds   []float64 // finite upper bounds, strictly ascending (+Inf is implicit)
	Counts   []uint64  // per-bucket counts, len(Bounds)+1
	Count    uint64
	Sum      float64
	Min, Max float64 // NaN when unknown
}

// AppendHistogram appends a histogram sample to a histogram series.
func (db *DB) AppendHistogram(ref SeriesRef, tMs int64, h Histogram) error {
	// The struct holds pointers, so it and its arrays live in C memory for the call.
	nb, nc := len(h.Bounds), len(h.Counts)
	mem := C.malloc(C.size_t(unsafe.Sizeof(C.strata_histogram{}) + uintptr(8*(nb+nc)) + 8))
	defer C.free(mem)
	ch := (*C.strata_histogram)(mem)
	arrays := unsafe.Add(mem, unsafe.Sizeof(C.strata_histogram{}))
	bounds := unsafe.Slice((*C.double)(arrays), nb+1)
	counts := unsafe.Slice((*C.uint64_t)(unsafe.Add(arrays, 8*nb)), nc+1)
	for i, b := range h.Bounds {
		bounds[i] = C.double(b)
	}
	for i, c := range h.Counts {
		counts[i] = C.uint64_t(c)
	}
	*ch = C.strata_histogram{bound_count: C.size_t(nb), bucket_count: C.size_t(nc), count: C.uint64_t(h.Count), sum: C.double(h.Sum), min: C.double(h.Min), max: C.double(h.Max)}
	if nb > 0 {
		ch.bounds = &bounds[0]
	}
	if nc > 0 {
		ch.counts = &counts[0]
	}
	var cerr *C.strata_error
	err := takeError(C.strata_db_append_histogram(db.h, C.uint64_t(ref), C.int64_t(tMs), ch, &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// Sync makes everything appended so far durable, whatever the fsync policy.
func (db *DB) Sync() error {
	var cerr *C.strata_error
	err := takeError(C.strata_db_sync(db.h, &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// CompactReport tells what Compact did.
type CompactReport struct {
	BlocksWritten, BlocksMerged, BlocksExpired int
}

// Compact cuts the head into blocks, merges blocks and applies retention.
func (db *DB) Compact() (CompactReport, error) {
	var r C.strata_compact_report
	var cerr *C.strata_error
	err := takeError(C.strata_db_compact(db.h, &r, &cerr), cerr)
	runtime.KeepAlive(db)
	return CompactReport{int(r.blocks_written), int(r.blocks_merged), int(r.blocks_expired)}, err
}

// Stats are sizes and counts.
type Stats struct {
	Series, Samples, HeadSamples, Blocks                       uint64
	BlockChunkBytes, BlockIndexBytes, BlockMetaBytes, WALBytes uint64
	BlockBytesPerSample                                        float64
	HasTimeRange                                               bool
	MinTimeMs, MaxTimeMs                                       int64
}

// Stats returns the database's statistics.
func (db *DB) Stats() (Stats, error) {
	var s C.strata_stats
	var cerr *C.strata_error
	err := takeError(C.strata_db_stats(db.h, &s, &cerr), cerr)
	runtime.KeepAlive(db)
	return Stats{
		Series: uint64(s.series), Samples: uint64(s.samples), HeadSamples: uint64(s.head_samples), Blocks: uint64(s.blocks),
		BlockChunkBytes: uint64(s.block_chunk_bytes), BlockIndexBytes: uint64(s.block_index_bytes),
		BlockMetaBytes: uint64(s.block_meta_bytes), WALBytes: uint64(s.wal_bytes),
		BlockBytesPerSample: float64(s.block_bytes_per_sample), HasTimeRange: s.has_time_range != 0,
		MinTimeMs: int64(s.min_time_ms), MaxTimeMs: int64(s.max_time_ms),
	}, err
}

// MatchType is how a Matcher compares a label's value.
type MatchType int

const (
	MatchEqual    MatchType = C.STRATA_MATCH_EQUAL
	MatchNotEqual MatchType = C.STRATA_MATCH_NOT_EQUAL
	MatchRegex    MatchType = C.STRATA_MATCH_REGEX
	MatchNotRegex MatchType = C.STRATA_MATCH_NOT_REGEX
)

// Matcher selects series by one label (Prometheus semantics).
type Matcher struct {
	Type        MatchType
	Name, Value string
}

// Series is one result series: labels sorted by name, points in time order.
type Series struct {
	Labels       Labels
	TimestampsMs []int64
	Values       []float64
}

// Select returns every float series matching all matchers with its samples in
// [startMs, endMs], sorted by label set.
func (db *DB) Select(startMs, endMs int64, matchers ...Matcher) ([]Series, error) {
	cms, free, err := cMatchers(matchers)
	if err != nil {
		return nil, err
	}
	defer free()
	n := len(matchers)
	var cur *C.strata_series_cursor
	var cerr *C.strata_error
	err = takeError(C.strata_db_select(db.h, cms, C.size_t(n), C.int64_t(startMs), C.int64_t(endMs), &cur, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return drain(cur)
}

// Query evaluates a PromQL expression (Strata's subset) at startMs, startMs+stepMs, … endMs.
func (db *DB) Query(expr string, startMs, endMs, stepMs int64) ([]Series, error) {
	if strings.IndexByte(expr, 0) >= 0 {
		return nil, invalid("query contains a NUL byte")
	}
	cexpr := C.CString(expr)
	defer C.free(unsafe.Pointer(cexpr))
	var cur *C.strata_series_cursor
	var cerr *C.strata_error
	err := takeError(C.strata_db_query_range(db.h, cexpr, C.int64_t(startMs), C.int64_t(endMs), C.int64_t(stepMs), &cur, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	return drain(cur)
}

// drain copies every series out of a cursor into Go memory and frees the cursor.
func drain(cur *C.strata_series_cursor) ([]Series, error) {
	defer C.strata_series_cursor_free(&cur)
	var remaining C.size_t
	C.strata_series_cursor_remaining(cur, &remaining, nil)
	out := make([]Series, 0, int(remaining))
	for {
		var v C.strata_series_view
		var has C.uint32_t
		var cerr *C.strata_error
		if err := takeError(C.strata_series_cursor_next(cur, &v, &has, &cerr), cerr); err != nil {
			return nil, err
		}
		if has == 0 {
			return out, nil
		}
		s := Series{Labels: make(Labels, int(v.label_count))}
		if v.label_count > 0 {
			for i, l := range unsafe.Slice(v.labels, int(v.label_count)) {
				s.Labels[i] = Label{C.GoStringN(l.name, C.int(l.name_len)), C.GoStringN(l.value, C.int(l.value_len))}
			}
		}
		n := int(v.sample_count)
		s.TimestampsMs = make([]int64, n)
		s.Values = make([]float64, n)
		if n > 0 {
			for i, t := range unsafe.Slice(v.timestamps_ms, n) {
				s.TimestampsMs[i] = int64(t)
			}
			for i, x := range unsafe.Slice(v.values, n) {
				s.Values[i] = float64(x)
			}
		}
		out = append(out, s)
	}
}

// NaN is a convenience for Histogram.Min/Max when unknown.
func NaN() float64 { return math.NaN() }

// cMatchers copies matchers into C memory; free releases it (and the strings).
func cMatchers(matchers []Matcher) (*C.strata_matcher, func(), error) {
	n := len(matchers)
	if n == 0 {
		return nil, func() {}, nil
	}
	mem := C.malloc(C.size_t(n) * C.size_t(unsafe.Sizeof(C.strata_matcher{})))
	ms := unsafe.Slice((*C.strata_matcher)(mem), n)
	var strs []*C.char
	free := func() {
		for _, p := range strs {
			C.free(unsafe.Pointer(p))
		}
		C.free(mem)
	}
	for i, m := range matchers {
		if strings.IndexByte(m.Name, 0) >= 0 || strings.IndexByte(m.Value, 0) >= 0 {
			free()
			return nil, nil, invalid("matcher %d contains a NUL byte", i)
		}
		name, value := C.CString(m.Name), C.CString(m.Value)
		strs = append(strs, name, value)
		ms[i] = C.strata_matcher{op: C.uint32_t(m.Type), name: name, value: value}
	}
	return &ms[0], free, nil
}
