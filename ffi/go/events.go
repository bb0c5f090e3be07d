package strata

/*
#include <stdlib.h>
#include "strata.h"
*/
import "C"

import (
	"runtime"
	"strings"
	"time"
	"unsafe"
)

// ImportOTLPLogs imports one OTLP ExportLogsServiceRequest (the protobuf body of an OTLP/HTTP
// POST /v1/logs) and returns the number of events stored. A payload that does not decode is
// an ErrInvalidArgument carrying the decoder's message; nothing of it is stored.
func (db *DB) ImportOTLPLogs(payload []byte) (uint64, error) {
	var n C.uint64_t
	var cerr *C.strata_error
	err := takeError(C.strata_db_import_otlp_logs(db.h, bytesPtr(payload), C.size_t(len(payload)), &n, &cerr), cerr)
	runtime.KeepAlive(db)
	return uint64(n), err
}

// Event is one stored OTLP log record (a GenAI event). Absent GenAI columns are nil.
type Event struct {
	ID     uint64 `json:"id"`
	Bucket string `json:"bucket"`
	// TimeNs is the time it is stored by: time_unix_nano, else the observed time.
	TimeNs         int64                  `json:"time_ns"`
	TimeUnixNano   int64                  `json:"time_unix_nano"`
	ObservedNs     int64                  `json:"observed_ns"`
	EventName      *string                `json:"event_name"`
	SeverityNumber uint8                  `json:"severity_number"`
	SeverityText   *string                `json:"severity_text"`
	TraceID        *string                `json:"trace_id"`
	SpanID         *string                `json:"span_id"`
	Flags          uint32                 `json:"flags"`
	Body           interface{}            `json:"body"`
	Service        *string                `json:"service"`
	Provider       *string                `json:"provider"`
	Model          *string                `json:"model"`
	RequestModel   *string                `json:"request_model"`
	ResponseModel  *string                `json:"response_model"`
	Operation      *string                `json:"operation"`
	InputTokens    *uint64                `json:"input_tokens"`
	OutputTokens   *uint64                `json:"output_tokens"`
	ErrorType      *string                `json:"error_type"`
	Scope          string                 `json:"scope"`
	ScopeVersion   *string                `json:"scope_version"`
	Resource       map[string]interface{} `json:"resource"`
	Attributes     map[string]interface{} `json:"attributes"`
	Content        map[string]interface{} `json:"content"`
}

// Time is the event's time.
func (e Event) Time() time.Time { return time.Unix(0, e.TimeNs) }

// TraceEvents returns every event of a trace (32 hex digits), oldest first, with its stored
// content; an empty slice when the trace has none.
func (db *DB) TraceEvents(traceIDHex string) ([]Event, error) {
	if strings.IndexByte(traceIDHex, 0) >= 0 {
		return nil, invalid("trace id %q contains a NUL byte", traceIDHex)
	}
	cid := C.CString(traceIDHex)
	defer C.free(unsafe.Pointer(cid))
	var out *C.char
	var cerr *C.strata_error
	err := takeError(C.strata_db_trace_events_json(db.h, cid, &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	events := []Event{}
	return events, takeJSON(out, &events)
}
