package limits

import (
	"flag"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Tenant is one tenant's limits. YAML keys and flag names follow Loki's
// limits_config. Pass it by value: it is a snapshot.
type Tenant struct {
	// IngestionRateMB is the sustained push rate per tenant in MiB/s of
	// lines and structured metadata, enforced on each distributor
	// separately; 0 means unlimited.
	IngestionRateMB float64 `yaml:"ingestion_rate_mb"`
	// IngestionBurstSizeMB is the token bucket size in MiB: the largest
	// single push accepted. Must be > 0 when IngestionRateMB is.
	IngestionBurstSizeMB float64 `yaml:"ingestion_burst_size_mb"`

	// MaxLineSize is the largest line accepted, in bytes; 0 means unlimited.
	MaxLineSize ByteSize `yaml:"max_line_size"`
	// MaxLineSizeTruncate truncates longer lines to MaxLineSize instead
	// of rejecting them.
	MaxLineSizeTruncate bool `yaml:"max_line_size_truncate"`

	MaxLabelNameLength     int `yaml:"max_label_name_length"`
	MaxLabelValueLength    int `yaml:"max_label_value_length"`
	MaxLabelNamesPerSeries int `yaml:"max_label_names_per_series"`

	// RejectOldSamples rejects entries older than RejectOldSamplesMaxAge.
	RejectOldSamples       bool           `yaml:"reject_old_samples"`
	RejectOldSamplesMaxAge model.Duration `yaml:"reject_old_samples_max_age"`
	// CreationGracePeriod is how far in the future an entry may be.
	CreationGracePeriod model.Duration `yaml:"creation_grace_period"`

	// MaxStructuredMetadataSize bounds the bytes of an entry's structured
	// metadata names and values; 0 means unlimited.
	MaxStructuredMetadataSize ByteSize `yaml:"max_structured_metadata_size"`
	// MaxStructuredMetadataEntriesCount bounds the number of structured
	// metadata pairs of an entry; 0 means unlimited.
	MaxStructuredMetadataEntriesCount int `yaml:"max_structured_metadata_entries_count"`

	// MaxStreamsPerTenant is the number of active streams an ingester
	// accepts for the tenant; 0 means unlimited.
	MaxStreamsPerTenant int `yaml:"max_global_streams_per_user"`

	// MaxEntriesLimitPerQuery is the largest limit a log query may ask
	// for; a larger one is refused. 0 means unlimited.
	MaxEntriesLimitPerQuery int `yaml:"max_entries_limit_per_query"`
	// MaxQuerySeries is the most series a metric query may return; 0 means
	// unlimited.
	MaxQuerySeries int `yaml:"max_query_series"`
	// MaxQueryLength is the longest time range (end - start) of a query;
	// 0 means unlimited.
	MaxQueryLength model.Duration `yaml:"max_query_length"`
	// QueryTimeout is how long a query may run; 0 leaves only the server's
	// -server.query-timeout, which bounds every query in any case.
	QueryTimeout model.Duration `yaml:"query_timeout"`

	// RetentionPeriod is how long the tenant's flushed data is kept: an
	// index period (one day) is dropped, with the chunks that end in it,
	// once it ended more than this long ago. 0 keeps data for good.
	RetentionPeriod model.Duration `yaml:"retention_period"`
}

// RegisterFlags registers the default limits. Flag defaults are the only
// defaults.
func (t *Tenant) RegisterFlags(f *flag.FlagSet) {
	f.Float64Var(&t.IngestionRateMB, "distributor.ingestion-rate-limit-mb", 64,
		"Per-tenant ingestion rate limit in MiB/s of lines and structured metadata, on each distributor. 0 means unlimited.")
	f.Float64Var(&t.IngestionBurstSizeMB, "distributor.ingestion-burst-size-mb", 128,
		"Per-tenant ingestion burst size in MiB: the largest push accepted at once.")
	t.MaxLineSize = 256 << 10
	f.Var(&t.MaxLineSize, "distributor.max-line-size", "Largest line accepted (e.g. 256KiB). 0 means unlimited.")
	f.BoolVar(&t.MaxLineSizeTruncate, "distributor.max-line-size-truncate", false,
		"Truncate lines longer than -distributor.max-line-size instead of rejecting them.")
	f.IntVar(&t.MaxLabelNameLength, "validation.max-length-label-name", 1024, "Longest label name accepted, in bytes.")
	f.IntVar(&t.MaxLabelValueLength, "validation.max-length-label-value", 2048, "Longest label value accepted, in bytes.")
	f.IntVar(&t.MaxLabelNamesPerSeries, "validation.max-label-names-per-series", 15, "Most labels a stream may have.")
	f.BoolVar(&t.RejectOldSamples, "validation.reject-old-samples", true,
		"Reject entries older than -validation.reject-old-samples.max-age.")
	t.RejectOldSamplesMaxAge = model.Duration(168 * time.Hour)
	f.Var(&t.RejectOldSamplesMaxAge, "validation.reject-old-samples.max-age", "Oldest entry age accepted when rejecting old samples.")
	t.CreationGracePeriod = model.Duration(10 * time.Minute)
	f.Var(&t.CreationGracePeriod, "validation.create-grace-period", "How far in the future an entry timestamp may be.")
	t.MaxStructuredMetadataSize = 64 << 10
	f.Var(&t.MaxStructuredMetadataSize, "limits.max-structured-metadata-size",
		"Largest structured metadata of an entry (names and values). 0 means unlimited.")
	f.IntVar(&t.MaxStructuredMetadataEntriesCount, "limits.max-structured-metadata-entries-count", 128,
		"Most structured metadata pairs of an entry. 0 means unlimited.")
	f.IntVar(&t.MaxStreamsPerTenant, "ingester.max-global-streams-per-user", 100000,
		"Most active streams per tenant. 0 means unlimited.")
	t.registerQueryFlags(f)
	f.Var(&t.RetentionPeriod, "store.retention",
		"How long flushed logs are kept, e.g. 744h (at least 24h; whole days of the index are deleted once they are this old). 0 keeps them for good.")
}

// registerQueryFlags registers the limits of the read path.
func (t *Tenant) registerQueryFlags(f *flag.FlagSet) {
	f.IntVar(&t.MaxEntriesLimitPerQuery, "validation.max-entries-limit", 5000,
		"Largest limit a log query may ask for. 0 means unlimited.")
	f.IntVar(&t.MaxQuerySeries, "querier.max-query-series", 500,
		"Most series a metric query may return. 0 means unlimited.")
	f.Var(&t.MaxQueryLength, "store.max-query-length",
		"Longest time range of a query (end - start), e.g. 721h. 0 means unlimited.")
	t.QueryTimeout = model.Duration(time.Minute)
	f.Var(&t.QueryTimeout, "querier.query-timeout",
		"How long a query may run. 0 leaves only -server.query-timeout.")
}

// Validate reports the first limit that cannot work.
func (t *Tenant) Validate() error {
	switch {
	case t.IngestionRateMB < 0:
		return invalid("ingestion_rate_mb", "must not be negative", t.IngestionRateMB)
	case t.IngestionBurstSizeMB < 0 || (t.IngestionRateMB > 0 && t.IngestionBurstSizeMB <= 0):
		return invalid("ingestion_burst_size_mb", "must be > 0 when ingestion_rate_mb is set", t.IngestionBurstSizeMB)
	case t.IngestionBurstSizeMB*(1<<20) > float64(1<<40):
		return invalid("ingestion_burst_size_mb", "must be at most 1048576", t.IngestionBurstSizeMB)
	case t.MaxLineSize < 0:
		return invalid("max_line_size", "must not be negative", t.MaxLineSize)
	case t.MaxLabelNameLength < 1:
		return invalid("max_label_name_length", "must be at least 1", t.MaxLabelNameLength)
	case t.MaxLabelValueLength < 1:
		return invalid("max_label_value_length", "must be at least 1", t.MaxLabelValueLength)
	case t.MaxLabelNamesPerSeries < 1:
		return invalid("max_label_names_per_series", "must be at least 1", t.MaxLabelNamesPerSeries)
	case t.RejectOldSamples && t.RejectOldSamplesMaxAge <= 0:
		return invalid("reject_old_samples_max_age", "must be > 0 when reject_old_samples is set", t.RejectOldSamplesMaxAge)
	case t.CreationGracePeriod < 0:
		return invalid("creation_grace_period", "must not be negative", t.CreationGracePeriod)
	case t.MaxStructuredMetadataSize < 0:
		return invalid("max_structured_metadata_size", "must not be negative", t.MaxStructuredMetadataSize)
	case t.MaxStructuredMetadataEntriesCount < 0:
		return invalid("max_structured_metadata_entries_count", "must not be negative", t.MaxStructuredMetadataEntriesCount)
	case t.MaxStreamsPerTenant < 0:
		return invalid("max_global_streams_per_user", "must not be negative", t.MaxStreamsPerTenant)
	case t.MaxEntriesLimitPerQuery < 0:
		return invalid("max_entries_limit_per_query", "must not be negative", t.MaxEntriesLimitPerQuery)
	case t.MaxQuerySeries < 0:
		return invalid("max_query_series", "must not be negative", t.MaxQuerySeries)
	case t.RetentionPeriod < 0 || (t.RetentionPeriod > 0 && t.RetentionPeriod < model.Duration(24*time.Hour)):
		return invalid("retention_period", "must be 0 (keep for good) or at least 24h", t.RetentionPeriod)
	}
	return nil
}

func invalid(key, rule string, v any) error {
	return fmt.Errorf("%w: %s %s, got %v", ErrInvalidLimit, key, rule, v)
}

// IngestionRateBytes is the ingestion rate in bytes per second (0: none).
func (t *Tenant) IngestionRateBytes() float64 { return t.IngestionRateMB * (1 << 20) }

// IngestionBurstBytes is the ingestion burst in bytes.
func (t *Tenant) IngestionBurstBytes() int { return int(t.IngestionBurstSizeMB * (1 << 20)) }
