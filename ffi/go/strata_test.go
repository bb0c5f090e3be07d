package strata

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// epochDataNow is "now" for tests whose data starts at the Unix epoch: a day later, so
// retention (measured from the clock) keeps their blocks whatever the date.
var epochDataNow = time.UnixMilli(86_400_000)

func open(t *testing.T, dir string, opts Options) *DB {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = epochDataNow
	}
	db, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	return db
}

func TestVersion(t *testing.T) {
	if Version() != HeaderVersion {
		t.Fatalf("library %s, header %s", Version(), HeaderVersion)
	}
	if CodeClosed.String() != "STRATA_ERR_CLOSED" || CodeOK != 0 || CodeInternal != 15 {
		t.Fatal("status codes changed")
	}
}

func TestHappyPath(t *testing.T) {
	dir := t.TempDir()
	db := open(t, dir, Options{Fsync: FsyncNever})
	a, err := db.SeriesRef(L("__name__", "llm_tokens_total", "model", "gpt-4o"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.SeriesRef(L("model", "claude", "__name__", "llm_tokens_total"))
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := db.SeriesRef(L("__name__", "llm_tokens_total", "model", "gpt-4o")); again != a || a == b {
		t.Fatalf("refs %d %d %d", a, again, b)
	}
	app := db.Appender()
	for i := 0; i < 100; i++ {
		app.Add(a, int64(i)*15000, float64(2*i))
		app.Add(b, int64(i)*15000, float64(3*i))
	}
	if app.Len() != 200 {
		t.Fatal(app.Len())
	}
	r, err := app.Flush()
	if err != nil || r.Accepted != 200 || r.Rejected != 0 || app.Len() != 0 {
		t.Fatalf("flush: %+v %v", r, err)
	}
	if r, err := db.AppendBatch(nil, nil, nil); err != nil || r.Accepted != 0 {
		t.Fatalf("empty batch: %+v %v", r, err)
	}
	if err := db.Append(L("__name__", "up", "service", "gw"), 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRef(a, 100*15000, 200); err != nil {
		t.Fatal(err)
	}
	h, _ := db.SeriesRef(L("__name__", "latency_seconds", "model", "gpt-4o"))
	hist := Histogram{Bounds: []float64{0.1, 1, 10}, Counts: []uint64{1, 2, 3, 4}, Count: 10, Sum: 25, Min: 0.05, Max: NaN()}
	if err := db.AppendHistogram(h, 1000, hist); err != nil {
		t.Fatal(err)
	}
	if err := db.Sync(); err != nil {
		t.Fatal(err)
	}

	series, err := db.Select(0, math.MaxInt64, Matcher{MatchEqual, "__name__", "llm_tokens_total"}, Matcher{MatchRegex, "model", "gpt.*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != 1 || series[0].Labels.Get("model") != "gpt-4o" || len(series[0].Values) != 101 ||
		series[0].Values[100] != 200 || series[0].TimestampsMs[1] != 15000 {
		t.Fatalf("select: %+v", series)
	}
	if series[0].Labels[0].Name != "__name__" {
		t.Fatalf("labels not sorted: %v", series[0].Labels)
	}
	q, err := db.Query("sum by (model) (rate(llm_tokens_total[1m]))", 60000, 99*15000, 60000)
	if err != nil {
		t.Fatal(err)
	}
	if len(q) != 2 || q[0].Labels.Get("model") != "claude" || len(q[0].Values) < 20 {
		t.Fatalf("query: %+v", q)
	}
	for _, v := range q[0].Values {
		if math.Abs(v-3.0/15) > 1e-9 {
			t.Fatalf("claude rate %v, want 0.2", v)
		}
	}
	st, err := db.Stats()
	// 202 float samples and 1 histogram sample (a histogram sample counts once).
	if err != nil || st.Series != 4 || st.Samples != 203 || !st.HasTimeRange || st.MaxTimeMs != 100*15000 {
		t.Fatalf("stats: %+v %v", st, err)
	}
	if _, err := db.Compact(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, dir, Options{})
	defer db.Close()
	if got, _ := db.SeriesRef(L("__name__", "llm_tokens_total", "model", "claude")); got != b {
		t.Fatalf("ref after reopen %d, want %d", got, b)
	}
	series, err = db.Select(0, math.MaxInt64, Matcher{MatchEqual, "__name__", "llm_tokens_total"})
	if err != nil || len(series) != 2 || len(series[1].Values) != 101 {
		t.Fatalf("after reopen: %v %v", len(series), err)
	}
}

func TestErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var se *Error
	if _, err := Open(filepath.Join(file, "sub"), Options{}); !errors.Is(err, ErrIO) || !errors.As(err, &se) || se.Message == "" {
		t.Fatalf("bad path: %v", err)
	}
	if _, err := Open("", Options{}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("empty path: %v", err)
	}
	if _, err := Open(dir, Options{BlockDuration: time.Millisecond}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad options: %v", err)
	}
	db := open(t, dir, Options{Fsync: FsyncNever})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open: %v", err)
	}
	if _, err := db.SeriesRef(L("__name__", "x", "model", "gpt-\xff")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("invalid utf-8: %v", err)
	}
	if _, err := db.SeriesRef(L("__name__", "x", "model", "a\x00b")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("NUL: %v", err)
	}
	if _, err := db.SeriesRef(L("model", "x")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no name: %v", err)
	}
	if _, err := db.SeriesRef(nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("no labels: %v", err)
	}
	a, _ := db.SeriesRef(L("__name__", "x"))
	if err := db.AppendRef(a, 10000, 1); err != nil {
		t.Fatal(err)
	}
	if err := db.AppendRef(a, 5000, 1); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("out of order: %v", err)
	}
	if err := db.AppendRef(a, 10000, 2); !errors.Is(err, ErrDuplicateTimestamp) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := db.AppendRef(12345, 1, 1); !errors.Is(err, ErrUnknownSeries) {
		t.Fatalf("unknown: %v", err)
	}
	r, err := db.AppendBatch([]SeriesRef{a, a, a}, []int64{11000, 1000, 12000}, []float64{1, 2, 3})
	if !errors.Is(err, ErrOutOfOrder) || r.Accepted != 2 || r.Rejected != 1 || r.FirstRejected != 1 {
		t.Fatalf("partial batch: %+v %v", r, err)
	}
	if _, err := db.AppendBatch([]SeriesRef{a}, []int64{1, 2}, []float64{1}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("lengths: %v", err)
	}
	if err := db.AppendHistogram(a, 20000, Histogram{Bounds: []float64{1}, Counts: []uint64{1, 1}, Count: 2}); !errors.Is(err, ErrKindMismatch) {
		t.Fatalf("kind: %v", err)
	}
	h, _ := db.SeriesRef(L("__name__", "h"))
	if err := db.AppendHistogram(h, 1, Histogram{Bounds: []float64{2, 1}, Counts: []uint64{1, 1, 1}}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad bounds: %v", err)
	}
	if _, err := db.Query("sum(", 0, 1, 1); !errors.Is(err, ErrQueryParse) {
		t.Fatalf("parse: %v", err)
	}
	if _, err := db.Query("info(x)", 0, 1, 1); !errors.Is(err, ErrQueryUnsupported) {
		t.Fatalf("unsupported: %v", err)
	}
	if _, err := db.Select(0, 1, Matcher{MatchRegex, "model", "(unclosed"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad regex: %v", err)
	}
	if _, err := db.Select(0, 1, Matcher{MatchType(9), "model", "x"}); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("bad op: %v", err)
	}

	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := db.AppendRef(a, 20000, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed append: %v", err)
	}
	if _, err := db.AppendBatch([]SeriesRef{a}, []int64{1}, []float64{1}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed batch: %v", err)
	}
	if _, err := db.Select(0, 1, Matcher{MatchEqual, "__name__", "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed select: %v", err)
	}
	if _, err := db.Query("x", 0, 1, 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed query: %v", err)
	}
	if _, err := db.Stats(); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed stats: %v", err)
	}
}

func TestConcurrentAppends(t *testing.T) {
	db := open(t, t.TempDir(), Options{Fsync: FsyncAlways})
	defer db.Close()
	const workers, series, batches, per = 4, 50, 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			refs := make([]SeriesRef, series)
			for s := range refs {
				r, err := db.SeriesRef(L("__name__", "concurrent_total", "worker", strconv.Itoa(w), "series", strconv.Itoa(s)))
				if err != nil {
					errs <- err
					return
				}
				refs[s] = r
			}
			app := db.Appender()
			for b := 0; b < batches; b++ {
				for k := 0; k < per; k++ {
					for s, r := range refs {
						app.Add(r, int64(b*per+k)*1000, float64(s))
					}
				}
				if _, err := app.Flush(); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	st, err := db.Stats()
	if err != nil || st.Samples != workers*series*batches*per || st.Series != workers*series {
		t.Fatalf("%+v %v", st, err)
	}
}

// The finalizer is the safety net: an unreachable, unclosed DB is closed and its directory
// released.
func TestFinalizerReleasesTheDirectory(t *testing.T) {
	dir := t.TempDir()
	func() { open(t, dir, Options{}) }()
	for i := 0; i < 50; i++ {
		runtime.GC()
		db, err := Open(dir, Options{})
		if err == nil {
			db.Close()
			return
		}
		if !errors.Is(err, ErrLocked) {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the finalizer never released the directory")
}

// "Done when", in Go: a child process (this test binary, re-executed) ingests a million
// samples in batches of 10,000 under FsyncAlways and prints each acknowledged batch; the
// parent SIGKILLs it midway, reopens, checks every acknowledged sample is there, ingests the
// rest, closes, reopens and queries everything back.
const (
	crashSeries   = 1000
	crashPerBatch = 10
	crashBatches  = 100
	crashEnv      = "STRATA_GO_CRASH_CHILD_DIR"
)

func crashRefs(db *DB) ([]SeriesRef, error) {
	refs := make([]SeriesRef, crashSeries)
	for s := range refs {
		r, err := db.SeriesRef(L("__name__", "go_crash_total", "model", fmt.Sprintf("model-%d", s%10), "series", strconv.Itoa(s)))
		if err != nil {
			return nil, err
		}
		refs[s] = r
	}
	return refs, nil
}

func crashValue(s int, k int64) float64 { return float64(s)*1e6 + float64(k) }

func crashIngest(db *DB, refs []SeriesRef, first int, acked func(int)) error {
	n := crashSeries * crashPerBatch
	br, bt, bv := make([]SeriesRef, n), make([]int64, n), make([]float64, n)
	for b := first; b < crashBatches; b++ {
		for i := 0; i < n; i++ {
			s, k := i%crashSeries, int64(b*crashPerBatch+i/crashSeries)
			br[i], bt[i], bv[i] = refs[s], k*1000, crashValue(s, k)
		}
		if _, err := db.AppendBatch(br, bt, bv); err != nil {
			return err
		}
		acked(b + 1)
	}
	return nil
}

func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnv)
	if dir == "" {
		t.Skip("only run as the child of TestCrashRecovery")
	}
	db := open(t, dir, Options{Fsync: FsyncAlways})
	refs, err := crashRefs(db)
	if err != nil {
		t.Fatal(err)
	}
	err = crashIngest(db, refs, 0, func(b int) { fmt.Printf("acked %d\n", b) })
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Hour) // the parent kills us first
}

// samplesPerSeries checks every series holds the same whole prefix 0..k-1 and returns k.
func samplesPerSeries(t *testing.T, db *DB) int {
	t.Helper()
	series, err := db.Select(math.MinInt64, math.MaxInt64, Matcher{MatchEqual, "__name__", "go_crash_total"})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) == 0 {
		return 0
	}
	if len(series) != crashSeries {
		t.Fatalf("%d series", len(series))
	}
	k := len(series[0].Values)
	for _, s := range series {
		id, _ := strconv.Atoi(s.Labels.Get("series"))
		if len(s.Values) != k {
			t.Fatalf("series %d has %d samples, series 0 has %d", id, len(s.Values), k)
		}
		for i := range s.Values {
			if s.TimestampsMs[i] != int64(i)*1000 || s.Values[i] != crashValue(id, int64(i)) {
				t.Fatalf("series %d sample %d: (%d, %v)", id, i, s.TimestampsMs[i], s.Values[i])
			}
		}
	}
	return k
}

func TestCrashRecovery(t *testing.T) {
	if os.Getenv(crashEnv) != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
	cmd.Env = append(os.Environ(), crashEnv+"="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(out)
	acked, killed := 0, false
	for lines.Scan() {
		var b int
		if _, err := fmt.Sscanf(lines.Text(), "acked %d", &b); err == nil {
			acked = b
		}
		if acked >= 40 && !killed {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true // keep reading: acknowledgements already printed count too
		}
	}
	_ = cmd.Wait()
	if !killed {
		t.Fatalf("child ended before it was killed (acked %d)", acked)
	}
	t.Logf("child killed after %d acknowledged batches", acked)

	db := open(t, dir, Options{Fsync: FsyncAlways})
	k := samplesPerSeries(t, db)
	t.Logf("recovered %d samples per series", k)
	if k < acked*crashPerBatch || k > (acked+1)*crashPerBatch || k%crashPerBatch != 0 {
		t.Fatalf("recovered %d samples per series, acknowledged %d", k, acked*crashPerBatch)
	}
	refs, err := crashRefs(db)
	if err != nil {
		t.Fatal(err)
	}
	if err := crashIngest(db, refs, k/crashPerBatch, func(int) {}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = open(t, dir, Options{})
	defer db.Close()
	if k := samplesPerSeries(t, db); k != crashBatches*crashPerBatch {
		t.Fatalf("%d samples per series after the rest", k)
	}
	end := int64(crashBatches*crashPerBatch-1) * 1000
	q, err := db.Query("count(go_crash_total)", 0, end, end/4)
	if err != nil || len(q) != 1 || len(q[0].Values) != 5 || q[0].Values[4] != crashSeries {
		t.Fatalf("query: %+v %v", q, err)
	}
	st, err := db.Stats()
	if err != nil || st.Samples != crashSeries*crashPerBatch*crashBatches {
		t.Fatalf("stats %+v %v", st, err)
	}
}
