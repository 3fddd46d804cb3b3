package distributor

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lode-logs/lode/backend/limits"
	"github.com/lode-logs/lode/backend/model"
	"github.com/lode-logs/lode/backend/push"
)

// timeFormat is how timestamps appear in messages (as in Loki's).
const timeFormat = time.RFC3339

// tally counts entries and their bytes (lines and structured metadata).
type tally struct{ entries, bytes int }

// batch is the scratch of one Push: the validated streams, their entries
// in one slab, the problems found and the counts for the metrics. Pooled.
type batch struct {
	tenant         string
	lim            limits.Tenant
	oldest, newest int64 // accepted timestamp window, inclusive

	pairs   []push.LabelPair // stream label pairs being checked
	mdPairs []push.LabelPair // structured metadata being sorted
	sb      labels.ScratchBuilder

	streams []model.Stream
	entries []model.Entry // slab: the streams' Entries are sub-slices

	problems []Problem // first maxReportedProblems problems
	total    int       // problems found

	receivedLines, receivedBytes int
	validLines, validBytes       int
	rejected                     int
	discarded                    map[string]tally // by reason
	truncated                    tally            // lines cut to the size limit, bytes cut
}

func newBatch() *batch {
	b := &batch{discarded: map[string]tally{}}
	b.sb.SetUnsafeAdd(true) // labels must not alias the request
	return b
}

func (b *batch) reset(tenant string, lim limits.Tenant, now time.Time) {
	b.tenant, b.lim = tenant, lim
	b.oldest = math.MinInt64
	if lim.RejectOldSamples {
		b.oldest = now.Add(-time.Duration(lim.RejectOldSamplesMaxAge)).UnixNano()
	}
	b.newest = now.Add(time.Duration(lim.CreationGracePeriod)).UnixNano()
}

// release drops references into the request so that the pool does not
// keep request bodies alive.
func (b *batch) release() {
	clear(b.pairs[:cap(b.pairs)])
	clear(b.mdPairs[:cap(b.mdPairs)])
	clear(b.streams[:cap(b.streams)])
	clear(b.entries[:cap(b.entries)])
	clear(b.problems[:cap(b.problems)])
	clear(b.discarded)
	b.pairs, b.mdPairs, b.streams, b.entries, b.problems = b.pairs[:0], b.mdPairs[:0], b.streams[:0], b.entries[:0], b.problems[:0]
	b.total, b.receivedLines, b.receivedBytes, b.validLines, b.validBytes, b.rejected = 0, 0, 0, 0, 0, 0
	b.truncated = tally{}
}

// validate checks every stream and entry of req, collecting the valid ones
// in b.streams.
func (b *batch) validate(req *push.Request) {
	n := 0
	for i := range req.Streams {
		n += len(req.Streams[i].Entries)
	}
	if cap(b.entries) < n {
		b.entries = make([]model.Entry, 0, n) // never grows below: streams slice it
	}
	for i := range req.Streams {
		b.addStream(i, &req.Streams[i])
	}
}

func (b *batch) addStream(i int, s *push.Stream) {
	size := entriesSize(s.Entries)
	b.receivedLines += len(s.Entries)
	b.receivedBytes += size
	ls, p, bad := b.parseLabels(s.Labels)
	if bad {
		p.Stream, p.Entry = i, WholeStream
		b.reject(p, len(s.Entries), size)
		return
	}
	if len(s.Entries) == 0 {
		if b.keep() {
			b.report(Problem{Stream: i, Entry: NoEntry, Reason: ReasonEmptyStream,
				Message: fmt.Sprintf("stream '%s' has no entries", abbrev(ls.String()))})
		} else {
			b.total++
		}
		return
	}
	st := streamText{ls: ls}
	start := len(b.entries)
	for j := range s.Entries {
		e := &s.Entries[j]
		if reason := b.checkEntry(e); reason != "" {
			p := Problem{Stream: i, Entry: j, Reason: reason}
			if b.keep() {
				p.Message, p.Limit = b.entryMessage(reason, abbrev(st.String()), e)
			}
			b.reject(p, 1, entrySize(e))
			continue
		}
		b.appendEntry(e)
	}
	if len(b.entries) > start {
		b.streams = append(b.streams, model.Stream{
			Labels:      ls,
			Fingerprint: model.StreamFingerprint(b.tenant, ls),
			Entries:     b.entries[start:len(b.entries):len(b.entries)],
		})
	}
}

// streamText formats a stream's canonical labels once, when a message
// needs them.
type streamText struct {
	ls  labels.Labels
	str string
}

func (s *streamText) String() string {
	if s.str == "" {
		s.str = s.ls.String()
	}
	return s.str
}

// parseLabels parses, canonicalises and checks a stream label string as
// Loki does: empty values are dropped (they mean "no label"), then
// count, lengths and duplicates are checked. bad reports a problem p
// (without its location).
func (b *batch) parseLabels(s string) (ls labels.Labels, p Problem, bad bool) {
	pairs, err := push.AppendParsedLabels(b.pairs[:0], s)
	b.pairs = pairs
	if err != nil {
		return ls, Problem{Reason: ReasonInvalidLabels, Message: fmt.Sprintf("Error parsing labels '%s' with error: %s", abbrev(s), err)}, true
	}
	pairs = slices.DeleteFunc(pairs, func(p push.LabelPair) bool { return p.Value == "" })
	if len(pairs) == 0 {
		return ls, Problem{Reason: ReasonMissingLabels, Message: "error at least one label pair is required per stream"}, true
	}
	sortLabelPairs(pairs)
	lim := &b.lim
	if len(pairs) > lim.MaxLabelNamesPerSeries {
		return ls, Problem{Reason: ReasonMaxLabelNamesPerSeries,
			Message: fmt.Sprintf("entry for stream '%s' has %d label names; limit %d", abbrev(s), len(pairs), lim.MaxLabelNamesPerSeries)}, true
	}
	prev := ""
	for _, l := range pairs {
		switch {
		case len(l.Name) > lim.MaxLabelNameLength:
			return ls, Problem{Reason: ReasonLabelNameTooLong, Limit: strconv.Itoa(lim.MaxLabelNameLength) + " bytes",
				Message: fmt.Sprintf("stream '%s' has label name too long: '%s'", abbrev(s), abbrev(l.Name))}, true
		case len(l.Value) > lim.MaxLabelValueLength:
			return ls, Problem{Reason: ReasonLabelValueTooLong, Limit: strconv.Itoa(lim.MaxLabelValueLength) + " bytes",
				Message: fmt.Sprintf("stream '%s' has label value too long: '%s'", abbrev(s), abbrev(l.Value))}, true
		case l.Name == prev:
			return ls, Problem{Reason: ReasonDuplicateLabelNames,
				Message: fmt.Sprintf("stream '%s' has duplicate label name: '%s'", abbrev(s), l.Name)}, true
		}
		prev = l.Name
	}
	return buildLabels(&b.sb, pairs), Problem{}, false
}

// checkEntry returns the reason e is rejected, or "". A line over the size
// limit is truncated instead when the tenant asks for it.
func (b *batch) checkEntry(e *push.Entry) string {
	lim := &b.lim
	switch {
	case e.Timestamp < b.oldest:
		return ReasonGreaterThanMaxSampleAge
	case e.Timestamp > b.newest:
		return ReasonTooFarInFuture
	case lim.MaxLineSize > 0 && len(e.Line) > int(lim.MaxLineSize) && !lim.MaxLineSizeTruncate:
		return ReasonLineTooLong
	}
	if len(e.Metadata) > 0 {
		if limit := int(lim.MaxStructuredMetadataSize); limit > 0 && metadataSize(e.Metadata) > limit {
			return ReasonStructuredMetadataTooLarge
		}
		if limit := lim.MaxStructuredMetadataEntriesCount; limit > 0 && len(e.Metadata) > limit {
			return ReasonStructuredMetadataTooMany
		}
	}
	return ""
}

// entryMessage words the rejection of e for reason in Loki's terms.
func (b *batch) entryMessage(reason, stream string, e *push.Entry) (msg, limit string) {
	lim := &b.lim
	switch reason {
	case ReasonGreaterThanMaxSampleAge:
		return fmt.Sprintf("entry for stream '%s' has timestamp too old: %s, oldest acceptable timestamp is: %s",
			stream, formatTime(e.Timestamp), formatTime(b.oldest)), ""
	case ReasonTooFarInFuture:
		return fmt.Sprintf("entry for stream '%s' has timestamp too new: %s", stream, formatTime(e.Timestamp)),
			formatTime(b.newest)
	case ReasonLineTooLong:
		return fmt.Sprintf("Max entry size '%d' bytes exceeded for stream '%s' while adding an entry with length '%d' bytes",
			lim.MaxLineSize, stream, len(e.Line)), ""
	case ReasonStructuredMetadataTooLarge:
		return fmt.Sprintf("stream '%s' has structured metadata too large: '%d' bytes, limit: '%d' bytes. Please see `limits_config.max_structured_metadata_size` or contact your Loki administrator to increase it.",
			stream, metadataSize(e.Metadata), lim.MaxStructuredMetadataSize), ""
	case ReasonStructuredMetadataTooMany:
		return fmt.Sprintf("stream '%s' has too many structured metadata labels: '%d', limit: '%d'. Please see `limits_config.max_structured_metadata_entries_count` or contact your Loki administrator to increase it.",
			stream, len(e.Metadata), lim.MaxStructuredMetadataEntriesCount), ""
	}
	panic("BUG: no message for reason " + reason)
}

// appendEntry adds a valid entry to the slab, truncating its line if it is
// over the limit (checkEntry let it through because of MaxLineSizeTruncate).
func (b *batch) appendEntry(e *push.Entry) {
	line := e.Line
	if max := int(b.lim.MaxLineSize); max > 0 && len(line) > max {
		b.truncated.entries++
		b.truncated.bytes += len(line) - max
		line = line[:max:max]
	}
	b.entries = append(b.entries, model.Entry{Timestamp: e.Timestamp, Line: line, Metadata: b.metadataLabels(e.Metadata)})
	b.validLines++
	b.validBytes += len(line) + metadataSize(e.Metadata)
}

// metadataLabels returns structured metadata as sorted Labels; of pairs
// with the same name the last one wins.
func (b *batch) metadataLabels(md []push.LabelPair) labels.Labels {
	switch len(md) {
	case 0:
		return labels.EmptyLabels()
	case 1:
		b.sb.Reset()
		b.sb.Add(md[0].Name, md[0].Value)
		return b.sb.Labels()
	}
	b.mdPairs = append(b.mdPairs[:0], md...)
	sortLabelPairs(b.mdPairs)
	pairs := b.mdPairs[:0]
	for k, p := range b.mdPairs {
		if k+1 < len(b.mdPairs) && b.mdPairs[k+1].Name == p.Name {
			continue
		}
		pairs = append(pairs, p)
	}
	return buildLabels(&b.sb, pairs)
}

// keep reports whether the next problem's message will be kept.
func (b *batch) keep() bool { return len(b.problems) < maxReportedProblems }

// report records a problem that discards nothing.
func (b *batch) report(p Problem) {
	b.total++
	if b.keep() {
		p.Message = truncateMessage(p.Message)
		b.problems = append(b.problems, p)
	}
}

// reject records a problem that discards n entries of size bytes.
func (b *batch) reject(p Problem, n, size int) {
	b.report(p)
	b.rejected += n
	t := b.discarded[p.Reason]
	t.entries += n
	t.bytes += size
	b.discarded[p.Reason] = t
}

// abbrev shortens a label string, name or value quoted in a message.
func abbrev(s string) string { return cut(s, maxQuoted) }

// truncateMessage bounds a whole message.
func truncateMessage(s string) string { return cut(s, maxProblemMessage) }

func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "...(truncated)"
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(timeFormat) }

func metadataSize(md []push.LabelPair) int {
	n := 0
	for _, p := range md {
		n += len(p.Name) + len(p.Value)
	}
	return n
}

func entrySize(e *push.Entry) int { return len(e.Line) + metadataSize(e.Metadata) }

func entriesSize(es []push.Entry) int {
	n := 0
	for i := range es {
		n += entrySize(&es[i])
	}
	return n
}
