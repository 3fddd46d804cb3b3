package tailer

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	lines, bytes, truncations, rotations, lost, rateDropped, positionsWrites prometheus.Counter
	longLines                                                                *prometheus.CounterVec
	files                                                                    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "lode_agent", Name: name, Help: help})
	}
	m := &metrics{
		lines:           c("read_lines_total", "Lines read from files."),
		bytes:           c("read_bytes_total", "Bytes read from files."),
		truncations:     c("file_truncations_total", "Files found truncated (copytruncate) and read again from the start."),
		rotations:       c("file_rotations_total", "Files renamed away, deleted or no longer wanted, drained before release."),
		lost:            c("files_lost_total", "Files that vanished while their descriptor was closed."),
		rateDropped:     c("rate_limited_lines_total", "Lines dropped by limits_config.readline_rate."),
		positionsWrites: c("positions_writes_total", "Writes of the positions file."),
		longLines: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: "lode_agent", Name: "long_lines_total",
			Help: "Lines longer than limits_config.max_line_size, by what was done: split or truncated."}, []string{"action"}),
		files: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "lode_agent", Name: "files",
			Help: "Files followed (active, draining, or waiting for acknowledgement)."}),
	}
	if reg != nil {
		reg.MustRegister(m.lines, m.bytes, m.truncations, m.rotations, m.lost, m.rateDropped, m.positionsWrites, m.longLines, m.files)
	}
	return m
}
