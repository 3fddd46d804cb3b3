package plugin

import (
	"cmp"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// Field names of a logs frame. timestamp, body, severity, id and labels are the names Grafana's
// logs data-plane contract (frame type LogLines) reads; tsNs carries the exact nanosecond
// timestamp as a string and labelTypes says where each label came from.
const (
	fieldLabels     = "labels"
	fieldTimestamp  = "timestamp"
	fieldBody       = "body"
	fieldSeverity   = "severity"
	fieldID         = "id"
	fieldTsNs       = "tsNs"
	fieldLabelTypes = "labelTypes"
)

// Label types in the labelTypes field, as Grafana's Loki datasource names them.
const (
	labelTypeIndexed    = "I"
	labelTypeStructured = "S"
	labelTypeParsed     = "P"
)

// logRow is one entry of one stream while a frame is built.
type logRow struct {
	stream int // index in the streams
	index  int // index in the stream's values
	entry  *lokiapi.Entry
}

// streamInfo is what every row of one stream shares.
type streamInfo struct {
	key        string          // canonical label string, for ids and ordering
	labelsJSON json.RawMessage // labels of rows without per-entry metadata
}

// logsFrameOptions say how to build a logs frame.
type logsFrameOptions struct {
	RefID     string
	Direction string // DirectionBackward: newest first
	Derived   []DerivedField
	Executed  string // meta.executedQueryString
	// Seen counts rows already given an id per (hash, timestamp); a live tail passes the same
	// map for every frame so that repeats across frames get distinct ids. Nil: a fresh map.
	Seen map[rowKey]int
}

// rowKey identifies a row up to repeats: hash of stream labels and line, and timestamp.
type rowKey struct {
	h  uint64
	ts int64
}

// newLogsFrame builds one logs frame from the streams of a query result. Rows of all streams
// are merged by time in the query direction (ties: stream labels, then server order). Each row
// gets an id that is stable across queries: the nanosecond timestamp and a hash of the stream
// labels and line, plus the occurrence index when identical rows repeat.
func newLogsFrame(streams []lokiapi.Stream, o logsFrameOptions) *data.Frame {
	infos := make([]streamInfo, len(streams))
	n := 0
	for i := range streams {
		infos[i] = streamInfo{key: canonicalLabels(streams[i].Labels), labelsJSON: mustJSON(streams[i].Labels)}
		n += len(streams[i].Values)
	}
	rows := make([]logRow, 0, n)
	for i := range streams {
		for j := range streams[i].Values {
			rows = append(rows, logRow{stream: i, index: j, entry: &streams[i].Values[j]})
		}
	}
	backward := o.Direction != DirectionForward
	// A total order (time, stream labels, then server order), so the unstable sort is stable.
	slices.SortFunc(rows, func(a, b logRow) int {
		if c := cmp.Compare(a.entry.Timestamp, b.entry.Timestamp); c != 0 {
			if backward {
				return -c
			}
			return c
		}
		if c := strings.Compare(infos[a.stream].key, infos[b.stream].key); c != 0 {
			return c
		}
		if c := cmp.Compare(a.stream, b.stream); c != 0 {
			return c
		}
		return cmp.Compare(a.index, b.index)
	})
	if o.Seen == nil {
		o.Seen = make(map[rowKey]int, n)
	}
	cols, rowLabels := fillLogRows(rows, streams, infos, o.Seen)
	f := cols.frame(o.RefID)
	f.Meta.ExecutedQueryString = o.Executed
	addDerivedFields(f, o.Derived, rowLabels)
	return f
}

// logColumns are the values of a logs frame's fields, one slice per field.
type logColumns struct {
	labels     []json.RawMessage
	timestamps []time.Time
	bodies     []string
	severities []string
	ids        []string
	tsNs       []string
	labelTypes []json.RawMessage // nil when no row has categorised labels
}

func newLogColumns(n int) logColumns {
	return logColumns{
		labels: make([]json.RawMessage, n), timestamps: make([]time.Time, n), bodies: make([]string, n),
		severities: make([]string, n), ids: make([]string, n), tsNs: make([]string, n),
	}
}

// frame assembles the logs frame: data-plane LogLines, preferred visualisation logs.
func (c logColumns) frame(refID string) *data.Frame {
	hidden := func(f *data.Field) *data.Field {
		f.Config = &data.FieldConfig{Custom: map[string]any{"hidden": true}}
		return f
	}
	f := data.NewFrame("",
		data.NewField(fieldLabels, nil, c.labels),
		data.NewField(fieldTimestamp, nil, c.timestamps),
		data.NewField(fieldBody, nil, c.bodies),
		data.NewField(fieldSeverity, nil, c.severities),
		data.NewField(fieldID, nil, c.ids),
		hidden(data.NewField(fieldTsNs, nil, c.tsNs)),
	)
	if c.labelTypes != nil {
		f.Fields = append(f.Fields, hidden(data.NewField(fieldLabelTypes, nil, c.labelTypes)))
	}
	f.RefID = refID
	f.Meta = &data.FrameMeta{
		Type:                   data.FrameTypeLogLines,
		TypeVersion:            data.FrameTypeVersion{0, 0},
		PreferredVisualization: data.VisTypeLogs,
	}
	return f
}

// newEmptyLogsFrame returns a logs frame with its schema and no rows.
func newEmptyLogsFrame(refID string) *data.Frame {
	return newLogColumns(0).frame(refID)
}

// fillLogRows computes the columns of rows, with labelTypes when any entry carries
// categorised labels. It also returns the labels of each row.
func fillLogRows(rows []logRow, streams []lokiapi.Stream, infos []streamInfo, seen map[rowKey]int) (logColumns, []map[string]string) {
	c := newLogColumns(len(rows))
	rowLabels := make([]map[string]string, len(rows))
	for i, r := range rows {
		e := r.entry
		info := infos[r.stream]
		labels, lj := streams[r.stream].Labels, info.labelsJSON
		if len(e.StructuredMetadata) > 0 || len(e.Parsed) > 0 {
			if c.labelTypes == nil {
				c.labelTypes = make([]json.RawMessage, len(rows))
			}
			var types json.RawMessage
			labels, types = mergeEntryLabels(labels, e)
			lj, c.labelTypes[i] = mustJSON(labels), types
		}
		rowLabels[i] = labels
		h := rowHash(info.key, e.Line)
		k := rowKey{h, e.Timestamp}
		occ := seen[k]
		seen[k] = occ + 1
		c.labels[i] = lj
		c.timestamps[i] = time.Unix(0, e.Timestamp).UTC()
		c.bodies[i] = e.Line
		c.severities[i] = levelOf(labels, e.Line)
		c.ids[i] = rowID(e.Timestamp, h, occ)
		c.tsNs[i] = strconv.FormatInt(e.Timestamp, 10)
	}
	if c.labelTypes != nil {
		indexedOnly := json.RawMessage(`{}`)
		for i, r := range rows {
			if c.labelTypes[i] == nil {
				c.labelTypes[i] = indexedTypes(streams[r.stream].Labels, indexedOnly)
			}
		}
	}
	return c, rowLabels
}

// mergeEntryLabels returns stream labels plus the entry's structured metadata and parsed labels,
// and the JSON of their types.
func mergeEntryLabels(stream map[string]string, e *lokiapi.Entry) (map[string]string, json.RawMessage) {
	out := make(map[string]string, len(stream)+len(e.StructuredMetadata)+len(e.Parsed))
	types := make(map[string]string, len(stream)+len(e.StructuredMetadata)+len(e.Parsed))
	for k, v := range stream {
		out[k], types[k] = v, labelTypeIndexed
	}
	for k, v := range e.StructuredMetadata {
		out[k], types[k] = v, labelTypeStructured
	}
	for k, v := range e.Parsed {
		out[k], types[k] = v, labelTypeParsed
	}
	return out, mustJSON(types)
}

func indexedTypes(stream map[string]string, empty json.RawMessage) json.RawMessage {
	if len(stream) == 0 {
		return empty
	}
	types := make(map[string]string, len(stream))
	for k := range stream {
		types[k] = labelTypeIndexed
	}
	return mustJSON(types)
}

// canonicalLabels renders labels as {a="1", b="2"} with sorted names (Prometheus style).
func canonicalLabels(ls map[string]string) string {
	names := make([]string, 0, len(ls))
	for k := range ls {
		names = append(names, k)
	}
	slices.Sort(names)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(ls[k]))
	}
	b.WriteByte('}')
	return b.String()
}

// rowHash hashes what identifies a row besides its timestamp: stream labels and line.
func rowHash(streamKey, line string) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.WriteString(streamKey)
	_, _ = d.Write([]byte{0xff})
	_, _ = d.WriteString(line)
	return d.Sum64()
}

// rowID formats "<ns>_<hash>" and appends "_<occurrence>" for repeats of an identical row.
func rowID(ts int64, h uint64, occ int) string {
	b := make([]byte, 0, 40)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, '_')
	hex := strconv.FormatUint(h, 16)
	for i := len(hex); i < 16; i++ {
		b = append(b, '0')
	}
	b = append(b, hex...)
	if occ > 0 {
		b = append(b, '_')
		b = strconv.AppendInt(b, int64(occ), 10)
	}
	return string(b)
}

// mustJSON encodes a string map; it cannot fail.
func mustJSON(m map[string]string) json.RawMessage {
	if m == nil {
		return json.RawMessage(`{}`)
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic("BUG: marshal string map: " + err.Error())
	}
	return b
}
