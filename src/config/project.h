#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "config/origin.h"
#include "types/logical_type.h"
#include "types/schema.h"

// The validated description of a project, as read from sluice.yaml and its includes. Plain data:
// every other module reads it, none writes it. docs/project-file.md documents each key. Every
// element carries an Origin so later stages can report problems at the line that caused them.
namespace sluice::config {

// The only config format version this build reads.
inline constexpr int kConfigVersion = 1;

// --- storage locations ------------------------------------------------------------------------

// The Parquet codec of the files ingest and model builds write to the lake. A trade-off of
// storage against read CPU (docs/project-file.md); it applies to versions written after it
// changes. Training sets, stream segments and the serving log keep their own fixed codecs.
enum class LakeCompression { kZstd, kLz4, kSnappy, kNone };

// The raw-zone lake of immutable, content-addressed snapshots.
struct LakeSpec {
  std::string path = ".sluice/lake";  // relative to the project dir unless absolute
  LakeCompression compression = LakeCompression::kZstd;
  Origin origin;
};

// The metadata registry (definitions, dataset versions, runs, lineage).
struct RegistrySpec {
  std::string path = ".sluice/registry.sqlite";  // relative to the project dir unless absolute

  // OpenLineage RunEvents of pipeline runs and steps (src/orchestrate): POSTed to a URL
  // (http://host:port/api/v1/lineage) and/or appended to a file as JSON lines.
  std::optional<std::string> openlineage_url;
  std::optional<std::string> openlineage_file;       // relative to the project dir unless absolute
  std::optional<std::string> openlineage_namespace;  // default: "sluice/<project name>"
  Origin origin;
};

// How to reach a PostgreSQL server. Either a DSN (literal or from an environment variable) or
// host/database/user parts; never both. Passwords only ever come from the environment.
struct ConnectionSpec {
  std::optional<std::string> dsn;           // libpq connection string
  std::optional<std::string> dsn_env;       // env var holding a libpq connection string
  std::optional<std::string> host;          // server host
  std::int64_t port = 5432;                 // server port, 1..65535
  std::optional<std::string> database;      // database name (required with host)
  std::optional<std::string> user;          // role name
  std::optional<std::string> password_env;  // env var holding the password
};

enum class WarehouseType { kDuckdb, kPostgres };

// Where SQL models run.
struct WarehouseSpec {
  WarehouseType type = WarehouseType::kDuckdb;
  std::string path = ".sluice/warehouse.duckdb";  // duckdb: database file
  std::optional<std::int64_t> threads;            // duckdb: worker threads (>= 1); default all
  ConnectionSpec connection;                      // postgres: dsn, dsn_env or host/... parts
  std::optional<std::string> schema;              // postgres: schema for models (default public)
  Origin origin;
};

// --- sources ----------------------------------------------------------------------------------

enum class SourceType { kFile, kPostgres, kKafka };
enum class FileFormat { kCsv, kJsonl, kParquet };
enum class Compression { kAuto, kNone, kGzip, kZstd };
enum class ExtraColumns { kFail, kWarn, kKeep };
// Kafka: where a consumer group with no stored position starts reading a partition.
enum class KafkaStart { kEarliest, kLatest };

// How CSV files are read (format: csv only).
struct CsvOptions {
  std::string delimiter = ",";                  // exactly one character
  bool header = true;                           // first line names the columns
  std::string quote = "\"";                     // exactly one character
  std::vector<std::string> null_values = {""};  // cell texts read as NULL
  std::optional<std::string> timestamp_format;  // strptime format; default ISO-8601
};

// Where raw data comes from, and the schema contract it must satisfy.
struct SourceSpec {
  std::string name;
  SourceType type = SourceType::kFile;
  std::optional<std::string> description;
  // file and kafka: how records are encoded. file: required; kafka: jsonl (the default) only.
  FileFormat format = FileFormat::kJsonl;
  std::string path;                              // file: path or glob, relative to the project dir
  Compression compression = Compression::kAuto;  // file: kAuto guesses from the extension
  CsvOptions csv;                                // file with format csv
  std::optional<std::string> table;              // postgres: table to read (exclusive with query)
  std::optional<std::string> query;              // postgres: SELECT to read (exclusive with table)
  std::optional<std::string> cursor;             // postgres: column for incremental reads
  ConnectionSpec connection;                     // postgres: required
  std::string topic;                             // kafka: required
  std::string brokers;                           // kafka: required, "host:port[,host:port]"
  // kafka: the consumer group; empty = "sluice.<project>.<source>" (see ConsumerGroup()).
  std::string group;
  KafkaStart start = KafkaStart::kEarliest;  // kafka: with no stored offsets
  // kafka: librdkafka properties (security.protocol, sasl.*...). Values may name environment
  // variables as ${VAR}, expanded only when the consumer is created: secrets stay out of the
  // spec, and nothing prints a value.
  std::map<std::string, std::string> properties;
  // kafka: how far behind the newest event time seen in a partition an event may be and still
  // be applied; older ones are counted and archived as late (docs/streaming.md).
  base::Duration allowed_lateness{0};
  std::optional<std::string> event_time;             // a declared timestamp or date column
  std::vector<std::string> entity_keys;              // declared columns that identify entities
  std::vector<types::Field> columns;                 // the schema contract; required, non-empty
  ExtraColumns extra_columns = ExtraColumns::kFail;  // undeclared columns in the data
  double error_budget = 0.0;  // fraction of rows (0..1) that may be quarantined before failing
  Origin origin;

  // The declared columns as a Schema (fails only on duplicates, which validation rejects).
  base::Result<types::Schema> Schema() const;
  const types::Field* FindColumn(std::string_view column) const;
  // kafka: `group`, or the default derived from the project's name.
  std::string ConsumerGroup(std::string_view project_name) const;
};

// --- entities and models ----------------------------------------------------------------------

// A thing features describe (a user, a card), identified by one or more key columns.
struct EntitySpec {
  std::string name;
  std::vector<std::string> keys;  // required, non-empty
  std::optional<std::string> description;
  Origin origin;
};

enum class Materialization { kView, kTable, kIncremental };
enum class ModelTestType {
  kNotNull,
  kUnique,
  kAcceptedValues,
  kRelationships,
  kRowCount,
  kFreshness,
  kSql
};

// A data test on a model's output. Which fields apply depends on `type` (validated).
struct ModelTestSpec {
  ModelTestType type = ModelTestType::kNotNull;
  std::optional<std::string> column;      // not_null, unique, accepted_values, relationships,
                                          // freshness: required
  std::vector<std::string> values;        // accepted_values: required, non-empty
  std::optional<std::string> to;          // relationships: the referenced model or source
  std::optional<std::string> field;       // relationships: the referenced column
  std::optional<std::int64_t> min;        // row_count: lower bound (at least one of min/max)
  std::optional<std::int64_t> max;        // row_count: upper bound
  std::optional<base::Duration> max_age;  // freshness: required
  std::optional<std::string> sql;         // sql: a query returning failing rows; required
  Origin origin;
};

// Per-model settings for a models/<name>.sql file.
struct ModelConfigSpec {
  std::string name;  // the .sql file's stem
  Materialization materialized = Materialization::kView;
  std::vector<std::string> unique_key;  // incremental: merge key
  std::optional<std::string> cursor;    // incremental: required; column of new rows
  std::vector<ModelTestSpec> tests;
  Origin origin;
};

struct ModelsSpec {
  std::string dir = "models";  // folder of *.sql files, relative to the project dir
  std::vector<ModelConfigSpec> configs;
  // Stems of the *.sql files found in `dir`, when `files_listed` (LoadProject lists them; a spec
  // loaded from a string knows only the configs).
  std::vector<std::string> files;
  bool files_listed = false;
  Origin origin;
};

// --- feature views ----------------------------------------------------------------------------

enum class AggregationFunction {
  kCount,
  kSum,
  kMean,
  kMin,
  kMax,
  kStddev,
  kVariance,
  kFirst,
  kLast,
  kLastK,
  kApproxCountDistinct
};
enum class TransformType { kMinmax, kZscore, kOnehot, kOrdinal, kImpute, kClip };
enum class ImputeStrategy { kMean, kMedian, kConstant };

// A row-level computed column: `expr` is a SQL expression over the source's columns.
struct ComputedColumnSpec {
  std::string name;
  std::string expr;
  Origin origin;
};

// A windowed aggregate per entity, evaluated point-in-time.
struct AggregationSpec {
  std::string name;
  AggregationFunction function = AggregationFunction::kCount;
  std::optional<std::string> column;     // input column; required except for count
  std::optional<base::Duration> window;  // nullopt means "lifetime" (all history)
  std::optional<std::int64_t> k;         // last_k: required, >= 1
  Origin origin;
};

// A fitted transform of one feature; fitted on a training set, applied identically online.
struct TransformSpec {
  std::string feature;  // a column, aggregation or derived feature of the same view
  TransformType type = TransformType::kMinmax;
  std::optional<std::string> fit_on;       // training set; required unless impute constant
  std::optional<ImputeStrategy> strategy;  // impute: required
  std::optional<std::string> value;        // impute constant: required (scalar text)
  std::optional<double> lower_quantile;    // clip: 0..1 (at least one of lower/upper)
  std::optional<double> upper_quantile;    // clip: 0..1, > lower_quantile
  Origin origin;
};

// A set of features computed per entity from one source or model.
struct FeatureViewSpec {
  std::string name;
  std::string entity;  // an entity name
  std::string source;  // a source or model name
  std::optional<std::string> description;
  std::optional<std::string> event_time;      // overrides the source's event_time column
  std::optional<std::string> filter;          // SQL predicate over source rows
  std::optional<base::Duration> ttl;          // values older than this read as missing online
  std::optional<base::Duration> tile;         // pre-aggregation tile; windows must be multiples
  std::vector<ComputedColumnSpec> columns;    // row-level inputs, usable by aggregations
  std::vector<AggregationSpec> aggregations;  // windowed features
  std::vector<ComputedColumnSpec> derived;    // expressions over this view's features
  std::vector<TransformSpec> transforms;
  std::map<std::string, std::string> defaults;  // feature -> scalar text used when missing
  Origin origin;

  // Every feature name this view produces: columns, aggregations, then derived.
  std::vector<std::string> FeatureNames() const;
};

// --- training sets, online stores, services ---------------------------------------------------

enum class DatasetFormat { kParquet, kCsv };

// A point-in-time-correct join of features onto a spine of (keys, timestamp, labels) rows.
struct TrainingSetSpec {
  std::string name;
  std::optional<std::string> spine;       // a source or model (exclusive with spine_path)
  std::optional<std::string> spine_path;  // a CSV/Parquet file relative to the project dir
  std::string timestamp;                  // spine column with the as-of instant; required
  std::vector<std::string> keys;          // spine entity key columns; required
  std::vector<std::string> labels;        // spine columns copied through as labels
  std::vector<std::string> features;      // "view" (all its features) or "view:feature"
  std::vector<DatasetFormat> formats = {DatasetFormat::kParquet};
  std::optional<base::EventTime> start;  // only spine rows at or after this instant
  std::optional<base::EventTime> end;    // only spine rows before this instant (> start)
  std::optional<std::string> description;
  Origin origin;
};

enum class OnlineStoreType { kRocksdb, kRedis };

struct OnlineStoreSpec {
  std::string name;
  OnlineStoreType type = OnlineStoreType::kRocksdb;
  std::string path = ".sluice/online";  // rocksdb: directory, relative to the project dir
  std::optional<std::string> url;       // redis: required, "redis://host:port[/db]"
  Origin origin;
};

// A named bundle of online features a model reads at prediction time.
struct FeatureServiceSpec {
  std::string name;
  std::vector<std::string> features;  // "view" or "view:feature"; required
  std::string online_store;           // an online store name; required
  std::optional<std::string> description;
  Origin origin;
};

// --- pipelines --------------------------------------------------------------------------------

enum class StepKind {
  kIngest,
  kBuild,
  kTest,
  kTrainingSet,
  kMaterialize,
  kProfile,
  kDrift,
  kCommand,
  kMonitor
};

// One node of a pipeline DAG. Which reference fields apply depends on `run` (validated).
struct StepSpec {
  std::string name;
  StepKind run = StepKind::kIngest;
  std::vector<std::string> sources;         // ingest: required; profile/drift: optional
  std::vector<std::string> models;          // build/test: optional, empty means all models
  std::optional<std::string> training_set;  // training_set: required; profile/drift: optional
  std::vector<std::string> feature_views;   // materialize: required; profile/drift: optional
  std::optional<std::string> command;       // command: required, run by /bin/sh in the dir
  std::vector<std::string> monitors;        // monitor: monitoring.monitors names; empty: all
  bool fail_on_alert = false;               // monitor: an alert fails the step
  std::vector<std::string> depends_on;      // steps of the same pipeline
  std::optional<std::int64_t> retries;      // overrides the pipeline's
  std::optional<base::Duration> timeout;    // overrides the pipeline's

  // Orchestration (src/orchestrate).
  std::optional<base::Duration> retry_backoff;  // overrides the pipeline's
  Origin origin;
};

struct PipelineSpec {
  std::string name;
  // "@hourly"-style macro, "@every <duration>", a 5-field cron line, or a bare duration.
  std::optional<std::string> schedule;
  std::int64_t retries = 0;                                 // per step, >= 0
  base::Duration retry_backoff = std::chrono::seconds(30);  // first delay, doubling
  std::optional<base::Duration> timeout;                    // per step
  std::vector<StepSpec> steps;                              // required, non-empty
  std::optional<std::string> description;

  // Orchestration (src/orchestrate).
  base::Duration retry_backoff_max = std::chrono::minutes(10);  // cap of the doubling delay
  std::int64_t concurrency = 4;                                 // steps running at once, >= 1
  std::optional<std::string> timezone;      // IANA name the schedule is read in; UTC if unset
  std::string catchup = "none";             // missed fires: "none", "latest" or "all"
  std::int64_t max_active_runs = 1;         // scheduled runs of this pipeline at once
  std::vector<std::string> on_new_version;  // sources whose new versions trigger a run
  std::optional<std::string> partition;     // "hour" or "day": runs get an interval
  Origin origin;
};

// --- monitoring -------------------------------------------------------------------------------

// Drift tests (docs/monitoring.md). kAuto is Evidently's default choice by column type and size.
enum class DriftMethod { kAuto, kKs, kWasserstein, kPsi, kJensenShannon, kChiSquare, kZTest };
enum class AlertSinkType { kWebhook, kLog };
enum class MonitorType { kDrift, kMetric };
enum class Severity { kInfo, kWarning, kCritical };

// monitoring.drift: the default method and thresholds; unset values take the documented defaults.
struct DriftSettingsSpec {
  DriftMethod method = DriftMethod::kAuto;
  std::optional<std::int64_t> small_reference_rows;  // default 1000: p-value tests up to here
  std::optional<double> drift_share;                 // default 0.5: dataset drift at this share
  std::optional<double> ks;                          // p-value thresholds, default 0.05
  std::optional<double> chisquare;
  std::optional<double> ztest;
  std::optional<double> wasserstein;  // distance thresholds, default 0.1
  std::optional<double> jensenshannon;
  std::optional<double> psi;
};

// Where alerts go.
struct AlertSinkSpec {
  std::string name;
  AlertSinkType type = AlertSinkType::kLog;
  std::optional<std::string> url;                     // webhook: required, http://host:port/path
  base::Duration timeout = std::chrono::seconds(10);  // webhook: whole delivery, retries included
  std::int64_t retries = 3;                           // webhook: attempts after the first
  Origin origin;
};

// A declared watch: drift of a dataset against a reference, or a rule on one profile metric
// tracked across the dataset's versions.
struct MonitorSpec {
  std::string name;
  MonitorType type = MonitorType::kDrift;
  std::string dataset;                   // a source, model or training set; required
  std::optional<std::string> reference;  // drift: required (dataset, version or time range)
  std::optional<std::string> current;    // drift: default the dataset's current version
  std::vector<std::string> columns;      // drift: default every shared column
  std::optional<DriftMethod> method;     // drift: overrides monitoring.drift.method
  std::optional<std::string> column;     // metric: required unless the metric is rows
  std::optional<std::string> metric;     // metric: required (see docs/monitoring.md)
  std::optional<double> min;             // metric: absolute bounds
  std::optional<double> max;
  std::optional<double> max_change;  // metric: |relative change| vs the previous version
  std::optional<double> max_zscore;  // metric: |z| against the previous `window` versions
  std::int64_t window = 10;          // metric: versions for max_zscore, >= 2
  Severity severity = Severity::kWarning;
  std::vector<std::string> sinks;  // alert sink names; empty: every sink
  Origin origin;
};

// monitoring.serving_log: `sluice serve` logs a sample of what it served to the lake
// (docs/monitoring.md#serving-logs). Present = on.
struct ServingLogSpec {
  bool enabled = false;
  double sample_rate = 1.0;             // share of requests logged, 0..1
  std::string dataset = "serving_log";  // the lake dataset the log is published as
  std::int64_t queue = 200000;          // rows sampled, not yet published; more are dropped
  std::int64_t flush_rows = 50000;      // a lake version at this many rows...
  base::Duration flush_interval = std::chrono::seconds(10);  // ...or this old, whichever first
};

// monitoring.freshness[]: a feature view's freshness SLO, checked by `sluice monitor` and
// exported in /metrics by `sluice serve` and `sluice stream`.
struct FreshnessSloSpec {
  std::string view;                                  // a feature view; required
  std::optional<base::Duration> max_event_age;       // now - newest event behind the served values
  std::optional<base::Duration> max_ingest_latency;  // ingestion (or event) -> servable
  Severity severity = Severity::kWarning;
  std::vector<std::string> sinks;  // alert sink names; empty: every sink
  Origin origin;
};

struct MonitoringSpec {
  DriftSettingsSpec drift;
  ServingLogSpec serving_log;
  std::vector<FreshnessSloSpec> freshness;
  bool profile_on_publish = true;   // profile every version ingest, build and training-set publish
  bool monitor_on_publish = false;  // and then run the monitors of the published dataset
  std::vector<AlertSinkSpec> sinks;
  std::vector<MonitorSpec> monitors;
  Origin origin;
};

// --- the project ------------------------------------------------------------------------------

struct ProjectSpec {
  std::string name;                   // required, [a-z_][a-z0-9_]*
  int version = kConfigVersion;       // config format version
  std::filesystem::path dir;          // the project folder; empty when loaded from a string
  std::vector<std::string> includes;  // as written in sluice.yaml (patterns, not expanded)
  std::vector<std::string> files;     // files read, sluice.yaml first, relative to `dir`
  LakeSpec lake;
  RegistrySpec registry;
  WarehouseSpec warehouse;
  std::vector<SourceSpec> sources;
  std::vector<EntitySpec> entities;
  ModelsSpec models;
  std::vector<FeatureViewSpec> feature_views;
  std::vector<TrainingSetSpec> training_sets;
  std::vector<OnlineStoreSpec> online_stores;
  std::vector<FeatureServiceSpec> feature_services;
  std::vector<PipelineSpec> pipelines;
  MonitoringSpec monitoring;  // sluice.yaml only
  Origin origin;              // fields: top-level keys ("lake", "warehouse", ...) that were set

  // Look-ups by name; nullptr when absent.
  const SourceSpec* FindSource(std::string_view name) const;
  const EntitySpec* FindEntity(std::string_view name) const;
  const FeatureViewSpec* FindFeatureView(std::string_view name) const;
  const TrainingSetSpec* FindTrainingSet(std::string_view name) const;
  const OnlineStoreSpec* FindOnlineStore(std::string_view name) const;
  const FeatureServiceSpec* FindFeatureService(std::string_view name) const;
  const PipelineSpec* FindPipeline(std::string_view name) const;
  // True if `name` is a model: a models/<name>.sql file or a models.configs entry.
  bool HasModel(std::string_view name) const;
};

// The words used in project files for each enum value ("csv", "last_k", "training_set", ...).
std::string_view Name(WarehouseType v);
std::string_view Name(SourceType v);
std::string_view Name(FileFormat v);
std::string_view Name(Compression v);
std::string_view Name(LakeCompression v);
std::string_view Name(ExtraColumns v);
std::string_view Name(Materialization v);
std::string_view Name(ModelTestType v);
std::string_view Name(AggregationFunction v);
std::string_view Name(TransformType v);
std::string_view Name(ImputeStrategy v);
std::string_view Name(DatasetFormat v);
std::string_view Name(OnlineStoreType v);
std::string_view Name(StepKind v);
std::string_view Name(DriftMethod v);
std::string_view Name(AlertSinkType v);
std::string_view Name(MonitorType v);
std::string_view Name(Severity v);

}  // namespace sluice::config
