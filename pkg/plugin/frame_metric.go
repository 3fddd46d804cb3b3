package plugin

import (
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/regexp"

	"github.com/lode-logs/lode/pkg/plugin/internal/lokiapi"
)

// Field names of a metric frame.
const (
	fieldTime  = "Time"
	fieldValue = "Value"
)

// metricFrameOptions say how to build metric frames.
type metricFrameOptions struct {
	RefID        string
	Expr         string
	LegendFormat string
	Step         time.Duration // range queries: the time field's interval
	Executed     string
}

// legendRE matches {{ label }} in a legend format.
var legendRE = regexp.MustCompile(`\{\{\s*(.+?)\s*\}\}`)

// newMatrixFrames returns one time series frame per series (data-plane TimeSeriesMulti). An
// empty result is a single typed frame without fields, as the data-plane contract asks.
func newMatrixFrames(series []lokiapi.Series, o metricFrameOptions) data.Frames {
	frames := make(data.Frames, 0, max(len(series), 1))
	for _, s := range series {
		times := make([]time.Time, len(s.Values))
		vals := make([]float64, len(s.Values))
		for i, p := range s.Values {
			times[i], vals[i] = time.Unix(0, p.T).UTC(), p.V
		}
		frames = append(frames, newSeriesFrame(s.Metric, times, vals, o))
	}
	return finishMetricFrames(frames, o)
}

// newVectorFrames returns one single-row time series frame per sample.
func newVectorFrames(samples []lokiapi.Sample, o metricFrameOptions) data.Frames {
	frames := make(data.Frames, 0, max(len(samples), 1))
	for _, s := range samples {
		frames = append(frames, newSeriesFrame(s.Metric, []time.Time{time.Unix(0, s.Value.T).UTC()}, []float64{s.Value.V}, o))
	}
	return finishMetricFrames(frames, o)
}

// newScalarFrames returns the single-row frame of a scalar result.
func newScalarFrames(p lokiapi.Point, o metricFrameOptions) data.Frames {
	f := newSeriesFrame(nil, []time.Time{time.Unix(0, p.T).UTC()}, []float64{p.V}, o)
	return finishMetricFrames(data.Frames{f}, o)
}

func newSeriesFrame(metric map[string]string, times []time.Time, vals []float64, o metricFrameOptions) *data.Frame {
	tf := data.NewField(fieldTime, nil, times)
	if o.Step > 0 {
		tf.Config = &data.FieldConfig{Interval: float64(o.Step.Milliseconds())}
	}
	vf := data.NewField(fieldValue, data.Labels(metric), vals)
	vf.Config = &data.FieldConfig{DisplayNameFromDS: seriesName(metric, o.LegendFormat, o.Expr)}
	f := data.NewFrame("", tf, vf)
	f.RefID = o.RefID
	f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
	return f
}

// finishMetricFrames adds the empty typed frame of an empty result and puts the executed
// query on the first frame (stats are added by the caller).
func finishMetricFrames(frames data.Frames, o metricFrameOptions) data.Frames {
	if len(frames) == 0 {
		f := data.NewFrame("")
		f.RefID = o.RefID
		f.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
		frames = append(frames, f)
	}
	frames[0].Meta.ExecutedQueryString = o.Executed
	return frames
}

// seriesName applies the legend format ({{label}} becomes the label's value, missing labels
// become empty); without one, it is the Prometheus-style label set, or the expression when the
// series has no labels.
func seriesName(metric map[string]string, legend, expr string) string {
	if legend != "" {
		return legendRE.ReplaceAllStringFunc(legend, func(m string) string {
			return metric[legendRE.FindStringSubmatch(m)[1]]
		})
	}
	if len(metric) == 0 {
		return expr
	}
	return canonicalLabels(metric)
}
