package strata

/*
#include <stdlib.h>
#include "strata.h"
*/
import "C"

import (
	"runtime"
	"sort"
	"strconv"
	"strings"
	"unsafe"
)

// Exemplar is one observation that stands for a sample, usually with the trace behind it
// (labels trace_id and span_id).
type Exemplar struct {
	Labels Labels
	Value  float64
	TMs    int64
}

// ExemplarSeries is one series' exemplars, oldest first.
type ExemplarSeries struct {
	Labels    Labels
	Exemplars []Exemplar
}

// Metadata is what is known of a metric name.
type Metadata struct {
	Type string `json:"type"`
	Unit string `json:"unit"`
	Help string `json:"help"`
}

// AppendExemplar appends an exemplar to series ref (logged to the WAL, then kept: the newest
// few per series). A repeat of one the series holds is accepted; a refused one (unknown
// series, labels over 128 characters, too far in the future, older than the series' newest)
// is an ErrInvalidArgument.
func (db *DB) AppendExemplar(ref SeriesRef, e Exemplar) error {
	names, values, free, err := cLabels(e.Labels)
	if err != nil {
		return err
	}
	defer free()
	var cerr *C.strata_error
	err = takeError(C.strata_db_append_exemplar(db.h, C.uint64_t(ref), names, values, C.size_t(len(e.Labels)), C.double(e.Value), C.int64_t(e.TMs), &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// Exemplars returns the exemplars of the series matching every matcher in [startMs, endMs],
// sorted by series labels.
func (db *DB) Exemplars(startMs, endMs int64, matchers ...Matcher) ([]ExemplarSeries, error) {
	cms, free, err := cMatchers(matchers)
	if err != nil {
		return nil, err
	}
	defer free()
	var out *C.char
	var cerr *C.strata_error
	err = takeError(C.strata_db_exemplars_json(db.h, cms, C.size_t(len(matchers)), C.int64_t(startMs), C.int64_t(endMs), &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data []struct {
			SeriesLabels map[string]string `json:"seriesLabels"`
			Exemplars    []struct {
				Labels    map[string]string `json:"labels"`
				Value     string            `json:"value"`
				Timestamp float64           `json:"timestamp"`
			} `json:"exemplars"`
		} `json:"data"`
	}
	if err := takeJSON(out, &doc); err != nil {
		return nil, err
	}
	series := make([]ExemplarSeries, 0, len(doc.Data))
	for _, d := range doc.Data {
		s := ExemplarSeries{Labels: labelsOf(d.SeriesLabels)}
		for _, e := range d.Exemplars {
			v, err := strconv.ParseFloat(e.Value, 64)
			if err != nil {
				return nil, &Error{Code: CodeInternal, Message: "exemplar value " + e.Value}
			}
			ms := int64(e.Timestamp*1000 + 0.5)
			if e.Timestamp < 0 {
				ms = int64(e.Timestamp*1000 - 0.5)
			}
			s.Exemplars = append(s.Exemplars, Exemplar{Labels: labelsOf(e.Labels), Value: v, TMs: ms})
		}
		series = append(series, s)
	}
	return series, nil
}

// SetMetadata sets a metric's type ("counter", "gauge", "histogram", "gaugehistogram",
// "summary", "info", "stateset", "unknown"), unit and help. Only changes are logged.
func (db *DB) SetMetadata(metric string, m Metadata) error {
	for _, s := range []string{metric, m.Type, m.Unit, m.Help} {
		if strings.IndexByte(s, 0) >= 0 {
			return invalid("metadata %q contains a NUL byte", s)
		}
	}
	cm, ct, cu, ch := C.CString(metric), C.CString(m.Type), C.CString(m.Unit), C.CString(m.Help)
	defer func() {
		for _, p := range []*C.char{cm, ct, cu, ch} {
			C.free(unsafe.Pointer(p))
		}
	}()
	var cerr *C.strata_error
	err := takeError(C.strata_db_set_metadata(db.h, cm, ct, cu, ch, &cerr), cerr)
	runtime.KeepAlive(db)
	return err
}

// Metadata returns the metadata of metric, or of every metric when metric is "".
func (db *DB) Metadata(metric string) (map[string]Metadata, error) {
	var cm *C.char
	if metric != "" {
		if strings.IndexByte(metric, 0) >= 0 {
			return nil, invalid("metric %q contains a NUL byte", metric)
		}
		cm = C.CString(metric)
		defer C.free(unsafe.Pointer(cm))
	}
	var out *C.char
	var cerr *C.strata_error
	err := takeError(C.strata_db_metadata_json(db.h, cm, &out, &cerr), cerr)
	runtime.KeepAlive(db)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Data map[string][]Metadata `json:"data"`
	}
	if err := takeJSON(out, &doc); err != nil {
		return nil, err
	}
	result := make(map[string]Metadata, len(doc.Data))
	for name, ms := range doc.Data {
		if len(ms) > 0 {
			result[name] = ms[0]
		}
	}
	return result, nil
}

// labelsOf turns a JSON label object into Labels sorted by name.
func labelsOf(m map[string]string) Labels {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	ls := make(Labels, 0, len(m))
	for _, n := range names {
		ls = append(ls, Label{Name: n, Value: m[n]})
	}
	return ls
}
