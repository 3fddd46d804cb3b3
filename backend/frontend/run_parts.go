package frontend

import (
	"context"
	"net/http"
	"sync"

	"github.com/lode-logs/lode/backend/stats"
)

// serveMetric runs every part, at most MaxParallelism at once, and merges
// the matrices in time order. The first failing part's answer is returned
// and the other parts are canceled.
func (run *queryRun) serveMetric(w http.ResponseWriter) {
	ctx, cancel := context.WithCancel(run.orig.Context())
	defer cancel()
	type outcome struct {
		res    *partResult
		cached bool
	}
	results := make([]outcome, len(run.parts))
	var (
		mu       sync.Mutex // guards firstErr
		firstErr *partError
		wg       sync.WaitGroup
	)
	sem := make(chan struct{}, run.f.cfg.MaxParallelism)
launch:
	for i, p := range run.parts {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			break launch
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res, cached, perr := run.fetch(ctx, p, run.q.limit)
			if perr != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = perr
					cancel()
				}
				mu.Unlock()
				return
			}
			results[i] = outcome{res, cached}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		firstErr.write(w)
		return
	}
	if err := run.orig.Context().Err(); err != nil {
		canceledError(err).write(w)
		return
	}
	m := newMerger(typeMatrix)
	for _, o := range results {
		if err := m.add(o.res, o.cached); err != nil {
			errorFrom(http.StatusBadGateway, err).write(w)
			return
		}
	}
	if perr := run.checkSeries(m); perr != nil {
		perr.write(w)
		return
	}
	run.writeMerged(w, m)
}

// logOutcome is the answer of one part of a log query.
type logOutcome struct {
	res    *partResult
	cached bool
	err    *partError
}

// serveLogs consumes the parts in the query's direction until limit
// entries are collected. Parts run ahead of the one being consumed in a
// window that starts at one and doubles (up to MaxParallelism) with every
// part that did not fill the limit, so that a query answered by its first
// part costs one sub-query. Parts still running when the limit is reached
// are canceled.
func (run *queryRun) serveLogs(w http.ResponseWriter) {
	ctx, cancel := context.WithCancel(run.orig.Context())
	var wg sync.WaitGroup
	// Parts read run.orig, which is not ours after we return; and the
	// statistics count every sub-query sent.
	stop := func() {
		cancel()
		wg.Wait()
	}
	defer stop()
	outcomes := make([]chan logOutcome, len(run.parts))
	launch := func(i int) {
		outcomes[i] = make(chan logOutcome, 1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, cached, perr := run.fetch(ctx, run.parts[i], run.q.limit)
			outcomes[i] <- logOutcome{res, cached, perr}
		}()
	}
	m := newMerger(typeStreams)
	window, launched, collected := 1, 0, 0
	for i := range run.parts {
		for launched < len(run.parts) && launched < i+window {
			launch(launched)
			launched++
		}
		o := <-outcomes[i]
		if o.err == nil && o.res.entries > run.q.limit-collected {
			cancel() // later parts are not needed
			o = run.trim(o, i, run.q.limit-collected)
		}
		if o.err != nil {
			o.err.write(w)
			return
		}
		if err := m.add(o.res, o.cached); err != nil {
			errorFrom(http.StatusBadGateway, err).write(w)
			return
		}
		if collected += o.res.entries; collected >= run.q.limit {
			break
		}
		window = min(2*window, run.f.cfg.MaxParallelism)
	}
	stop()
	run.writeMerged(w, m)
}

// trim keeps the first n entries of part i's answer. When entries at the
// cut share a timestamp, the part is asked again with limit n, so that the
// downstream picks them as it would have for the whole query.
func (run *queryRun) trim(o logOutcome, i, n int) logOutcome {
	ok, err := trimStreams(o.res, n, run.q.dir)
	if err != nil {
		return logOutcome{err: errorFrom(http.StatusBadGateway, err)}
	}
	if ok {
		return o
	}
	prev := o
	res, cached, perr := run.fetch(run.orig.Context(), run.parts[i], n)
	if perr != nil {
		return logOutcome{err: perr}
	}
	// Both sub-queries count in the statistics, unless from the cache.
	var st stats.Result
	if !prev.cached {
		st.Merge(prev.res.stats)
	}
	if !cached {
		st.Merge(res.stats)
	}
	res.stats = st
	return logOutcome{res: res}
}
