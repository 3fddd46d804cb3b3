package ingester

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the ingester's Prometheus metrics.
type metrics struct {
	streams          prometheus.GaugeFunc
	entriesAppended  prometheus.Counter
	bytesAppended    prometheus.Counter
	duplicates       prometheus.Counter
	pushFailures     prometheus.Counter
	headBytes        prometheus.Gauge
	blocksCut        prometheus.Counter
	chunksCut        *prometheus.CounterVec
	chunksFlushed    prometheus.Counter
	flushedBytes     prometheus.Counter
	flushFailures    *prometheus.CounterVec
	backlogChunks    prometheus.Gauge
	backlogBytes     prometheus.Gauge
	storageFailures  *prometheus.CounterVec
	replaySeconds    prometheus.Gauge
	badgerLSMBytes   prometheus.GaugeFunc
	badgerVlogBytes  prometheus.GaugeFunc
	badgerGCRewrites prometheus.Counter
	writtenBytes     *prometheus.CounterVec
	walWritten       prometheus.Counter // writtenBytes{record="wal"}
	blockWritten     prometheus.Counter // writtenBytes{record="block"}
}

func newMetrics(reg prometheus.Registerer, streams func() float64, lsm, vlog func() float64) (*metrics, error) {
	m := &metrics{
		streams: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_ingester_streams", Help: "Streams held in memory.",
		}, streams),
		entriesAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_entries_appended_total", Help: "Entries made durable by pushes.",
		}),
		bytesAppended: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_bytes_appended_total", Help: "Bytes of lines made durable by pushes.",
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_duplicate_entries_total", Help: "Pushed entries dropped because the head already held them (same stream, timestamp and line).",
		}),
		pushFailures: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_push_failures_total", Help: "Pushes that failed to write the buffer and acknowledged nothing.",
		}),
		headBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_ingester_head_bytes", Help: "Bytes of head blocks held in memory.",
		}),
		blocksCut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_blocks_cut_total", Help: "Head blocks compressed into blocks.",
		}),
		chunksCut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_ingester_chunks_cut_total", Help: "Chunks completed, by reason (size, age, idle, forced, replay).",
		}, []string{"reason"}),
		chunksFlushed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_chunks_flushed_total", Help: "Chunks written to the object store and the index, then dropped from the buffer.",
		}),
		flushedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_flushed_bytes_total", Help: "Bytes of the chunk objects flushed (stored by this ingester, or found already stored by a replica).",
		}),
		flushFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_ingester_flush_failures_total", Help: "Chunk flush attempts that failed, by stage (read, put, index, delete).",
		}, []string{"stage"}),
		backlogChunks: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_ingester_flush_backlog_chunks", Help: "Complete chunks waiting to be flushed.",
		}),
		backlogBytes: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_ingester_flush_backlog_bytes", Help: "Compressed bytes of complete chunks waiting to be flushed.",
		}),
		storageFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_ingester_storage_failures_total", Help: "Failed writes to the Badger buffer, by operation (push, block, cut, delete).",
		}, []string{"op"}),
		replaySeconds: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lode_ingester_replay_duration_seconds", Help: "Time the last start took to rebuild streams from the buffer.",
		}),
		badgerLSMBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_ingester_badger_lsm_bytes", Help: "Size of the buffer's LSM tree files.",
		}, lsm),
		badgerVlogBytes: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "lode_ingester_badger_vlog_bytes", Help: "Size of the buffer's value log files.",
		}, vlog),
		badgerGCRewrites: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lode_ingester_badger_gc_runs_total", Help: "Value log files rewritten by garbage collection.",
		}),
		writtenBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lode_ingester_buffer_written_bytes_total", Help: "Bytes of record values written to the Badger buffer, by record (wal: WAL records, compressed; block: block data records).",
		}, []string{"record"}),
	}
	m.walWritten = m.writtenBytes.WithLabelValues("wal")
	m.blockWritten = m.writtenBytes.WithLabelValues("block")
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{
		m.streams, m.entriesAppended, m.bytesAppended, m.duplicates, m.pushFailures, m.headBytes,
		m.blocksCut, m.chunksCut, m.chunksFlushed, m.flushedBytes, m.flushFailures,
		m.backlogChunks, m.backlogBytes, m.storageFailures, m.replaySeconds,
		m.badgerLSMBytes, m.badgerVlogBytes, m.badgerGCRewrites, m.writtenBytes,
	} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}
