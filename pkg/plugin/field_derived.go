package plugin

import (
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// addDerivedFields appends one nullable string field per derived field to a logs frame. The
// value comes from the line (first capture group of the regex, or the whole match when the
// regex has no group) or from a label; the field's data link turns it into a URL or an
// internal link to another datasource (Grafana interpolates ${__value.raw}).
func addDerivedFields(f *data.Frame, derived []DerivedField, rowLabels []map[string]string) {
	if len(derived) == 0 {
		return
	}
	body := f.Fields[2]
	n := body.Len()
	for _, d := range derived {
		vals := make([]*string, n)
		for i := range n {
			vals[i] = derivedValue(d, body.At(i).(string), rowLabels[i])
		}
		fld := data.NewField(d.Name, nil, vals)
		fld.Config = &data.FieldConfig{Links: []data.DataLink{d.link()}}
		f.Fields = append(f.Fields, fld)
	}
}

func derivedValue(d DerivedField, line string, labels map[string]string) *string {
	if d.MatcherType == MatcherLabel {
		if v, ok := labels[d.MatcherRegex]; ok && v != "" {
			return &v
		}
		return nil
	}
	if d.re == nil {
		return nil
	}
	m := d.re.FindStringSubmatch(line)
	switch {
	case m == nil:
		return nil
	case len(m) > 1:
		if m[1] == "" {
			return nil
		}
		return &m[1]
	default:
		return &m[0]
	}
}

// link is the data link of a derived field.
func (d DerivedField) link() data.DataLink {
	if d.DatasourceUID != "" {
		return data.DataLink{
			Title: d.URLDisplayLabel,
			Internal: &data.InternalDataLink{
				DatasourceUID: d.DatasourceUID,
				Query:         map[string]any{"query": d.URL},
			},
		}
	}
	return data.DataLink{Title: d.URLDisplayLabel, URL: d.URL, TargetBlank: d.TargetBlank}
}
