#include "config/project_reader.h"

#include <charconv>

#include "config/enum_words.h"
#include "config/map_reader.h"
#include "types/logical_type.h"

namespace sluice::config {
namespace {

constexpr Presence kOpt = Presence::kOptional;
constexpr Presence kReq = Presence::kRequired;

void ReadConnection(MapReader& r, ConnectionSpec* c) {
  r.Read("dsn", kOpt, &c->dsn);
  r.Read("dsn_env", kOpt, &c->dsn_env);
  r.Read("host", kOpt, &c->host);
  r.Read("port", kOpt, &c->port);
  r.Read("database", kOpt, &c->database);
  r.Read("user", kOpt, &c->user);
  r.Read("password_env", kOpt, &c->password_env);
}

// "1%" or a fraction such as 0.01.
void ReadErrorBudget(MapReader& r, double* out) {
  const YamlNode* v = r.Value("error_budget", kOpt);
  if (!v) return;
  std::string_view text = v->kind == YamlKind::kScalar ? std::string_view(v->scalar) : "";
  const bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  double d = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    r.Error("error_budget",
            "expected a fraction like 0.01 or a percentage like 1%, got " + DescribeYamlNode(*v));
    return;
  }
  *out = percent ? d / 100.0 : d;
}

void ReadSource(MapReader& r, SourceSpec& s) {
  r.Read("name", kReq, &s.name);
  r.ReadEnum("type", kReq, kSourceTypeWords, &s.type);
  r.Read("description", kOpt, &s.description);
  r.ReadEnum("format", kOpt, kFileFormatWords, &s.format);
  r.Read("path", kOpt, &s.path);
  r.ReadEnum("compression", kOpt, kCompressionWords, &s.compression);
  r.ReadMap("csv", kOpt, [&](MapReader& c) {
    c.Read("delimiter", kOpt, &s.csv.delimiter);
    c.Read("header", kOpt, &s.csv.header);
    c.Read("quote", kOpt, &s.csv.quote);
    c.Read("null_values", kOpt, &s.csv.null_values);
    c.Read("timestamp_format", kOpt, &s.csv.timestamp_format);
  });
  r.Read("table", kOpt, &s.table);
  r.Read("query", kOpt, &s.query);
  r.Read("cursor", kOpt, &s.cursor);
  r.ReadMap("connection", kOpt, [&](MapReader& c) { ReadConnection(c, &s.connection); });
  r.Read("topic", kOpt, &s.topic);
  r.Read("brokers", kOpt, &s.brokers);
  r.Read("group", kOpt, &s.group);
  r.ReadEnum("start", kOpt, kKafkaStartWords, &s.start);
  r.ReadScalarMap("properties", kOpt, &s.properties);
  r.Read("allowed_lateness", kOpt, &s.allowed_lateness);
  r.Read("event_time", kOpt, &s.event_time);
  r.Read("entity_keys", kOpt, &s.entity_keys);
  r.ReadItems("columns", kReq, [&](MapReader& c, size_t) {
    types::Field field;
    c.Read("name", kReq, &field.name);
    std::string type;
    c.Read("type", kReq, &type);
    if (!type.empty()) {
      auto parsed = types::ParseLogicalType(type);
      if (parsed.ok()) {
        field.type = *parsed;
      } else {
        c.Error("type", parsed.status().message());
      }
    }
    c.Read("nullable", kOpt, &field.nullable);
    std::optional<std::string> description;
    c.Read("description", kOpt, &description);
    s.columns.push_back(std::move(field));
  });
  r.ReadEnum("extra_columns", kOpt, kExtraColumnsWords, &s.extra_columns);
  ReadErrorBudget(r, &s.error_budget);
}

void ReadEntity(MapReader& r, EntitySpec& e) {
  r.Read("name", kReq, &e.name);
  r.Read("keys", kReq, &e.keys);
  r.Read("description", kOpt, &e.description);
}

void ReadModelTest(MapReader& r, ModelTestSpec& t) {
  r.ReadEnum("type", kReq, kModelTestTypeWords, &t.type);
  r.Read("column", kOpt, &t.column);
  r.Read("values", kOpt, &t.values);
  r.Read("to", kOpt, &t.to);
  r.Read("field", kOpt, &t.field);
  r.Read("min", kOpt, &t.min);
  r.Read("max", kOpt, &t.max);
  r.Read("max_age", kOpt, &t.max_age);
  r.Read("sql", kOpt, &t.sql);
}

void ReadModelConfig(MapReader& r, ModelConfigSpec& m) {
  r.Read("name", kReq, &m.name);
  r.ReadEnum("materialized", kOpt, kMaterializationWords, &m.materialized);
  r.Read("unique_key", kOpt, &m.unique_key);
  r.Read("cursor", kOpt, &m.cursor);
  r.ReadList<ModelTestSpec>("tests", kOpt, &m.tests, ReadModelTest);
}

void ReadComputedColumn(MapReader& r, ComputedColumnSpec& c) {
  r.Read("name", kReq, &c.name);
  r.Read("expr", kReq, &c.expr);
}

void ReadAggregation(MapReader& r, AggregationSpec& a) {
  r.Read("name", kReq, &a.name);
  r.ReadEnum("function", kReq, kAggregationFunctionWords, &a.function);
  r.Read("column", kOpt, &a.column);
  if (const YamlNode* w = r.Value("window", kReq)) {
    if (w->kind != YamlKind::kScalar) {
      r.Error("window", "expected a duration or 'lifetime', got " + DescribeYamlNode(*w));
    } else if (w->scalar != "lifetime") {
      auto d = base::ParseDuration(w->scalar);
      if (d.ok()) {
        a.window = *d;
      } else {
        r.Error("window", d.status().message() + " or 'lifetime'");
      }
    }
  }
  r.Read("k", kOpt, &a.k);
}

void ReadTransform(MapReader& r, TransformSpec& t) {
  r.Read("feature", kReq, &t.feature);
  r.ReadEnum("type", kReq, kTransformTypeWords, &t.type);
  r.Read("fit_on", kOpt, &t.fit_on);
  r.ReadEnum("strategy", kOpt, kImputeStrategyWords, &t.strategy);
  r.Read("value", kOpt, &t.value);
  r.Read("lower_quantile", kOpt, &t.lower_quantile);
  r.Read("upper_quantile", kOpt, &t.upper_quantile);
}

void ReadFeatureView(MapReader& r, FeatureViewSpec& v) {
  r.Read("name", kReq, &v.name);
  r.Read("entity", kReq, &v.entity);
  r.Read("source", kReq, &v.source);
  r.Read("description", kOpt, &v.description);
  r.Read("event_time", kOpt, &v.event_time);
  r.Read("filter", kOpt, &v.filter);
  r.Read("ttl", kOpt, &v.ttl);
  r.Read("tile", kOpt, &v.tile);
  r.ReadList<ComputedColumnSpec>("columns", kOpt, &v.columns, ReadComputedColumn);
  r.ReadList<AggregationSpec>("aggregations", kOpt, &v.aggregations, ReadAggregation);
  r.ReadList<ComputedColumnSpec>("derived", kOpt, &v.derived, ReadComputedColumn);
  r.ReadList<TransformSpec>("transforms", kOpt, &v.transforms, ReadTransform);
  // Keys are feature names, checked against the view by validation.
  r.ReadScalarMap("defaults", kOpt, &v.defaults);
}

void ReadTrainingSet(MapReader& r, TrainingSetSpec& t) {
  r.Read("name", kReq, &t.name);
  r.Read("spine", kOpt, &t.spine);
  r.Read("spine_path", kOpt, &t.spine_path);
  r.Read("timestamp", kReq, &t.timestamp);
  r.Read("keys", kReq, &t.keys);
  r.Read("labels", kOpt, &t.labels);
  r.Read("features", kReq, &t.features);
  r.ReadEnumList("formats", kOpt, kDatasetFormatWords, &t.formats);
  r.Read("start", kOpt, &t.start);
  r.Read("end", kOpt, &t.end);
  r.Read("description", kOpt, &t.description);
}

void ReadOnlineStore(MapReader& r, OnlineStoreSpec& s) {
  r.Read("name", kReq, &s.name);
  r.ReadEnum("type", kReq, kOnlineStoreTypeWords, &s.type);
  r.Read("path", kOpt, &s.path);
  r.Read("url", kOpt, &s.url);
}

void ReadFeatureService(MapReader& r, FeatureServiceSpec& s) {
  r.Read("name", kReq, &s.name);
  r.Read("features", kReq, &s.features);
  r.Read("online_store", kReq, &s.online_store);
  r.Read("description", kOpt, &s.description);
}

void ReadStep(MapReader& r, StepSpec& s) {
  r.Read("name", kReq, &s.name);
  r.ReadEnum("run", kReq, kStepKindWords, &s.run);
  r.Read("sources", kOpt, &s.sources);
  r.Read("models", kOpt, &s.models);
  r.Read("training_set", kOpt, &s.training_set);
  r.Read("feature_views", kOpt, &s.feature_views);
  r.Read("command", kOpt, &s.command);
  r.Read("monitors", kOpt, &s.monitors);
  r.Read("fail_on_alert", kOpt, &s.fail_on_alert);
  r.Read("depends_on", kOpt, &s.depends_on);
  r.Read("retries", kOpt, &s.retries);
  r.Read("timeout", kOpt, &s.timeout);
  r.Read("retry_backoff", kOpt, &s.retry_backoff);
}

void ReadPipeline(MapReader& r, PipelineSpec& p) {
  r.Read("name", kReq, &p.name);
  r.Read("description", kOpt, &p.description);
  r.Read("schedule", kOpt, &p.schedule);
  r.Read("retries", kOpt, &p.retries);
  r.Read("retry_backoff", kOpt, &p.retry_backoff);
  r.Read("timeout", kOpt, &p.timeout);
  r.Read("retry_backoff_max", kOpt, &p.retry_backoff_max);
  r.Read("concurrency", kOpt, &p.concurrency);
  r.Read("timezone", kOpt, &p.timezone);
  r.Read("catchup", kOpt, &p.catchup);
  r.Read("max_active_runs", kOpt, &p.max_active_runs);
  r.Read("on_new_version", kOpt, &p.on_new_version);
  r.Read("partition", kOpt, &p.partition);
  r.ReadList<StepSpec>("steps", kReq, &p.steps, ReadStep);
}

void ReadAlertSink(MapReader& r, AlertSinkSpec& s) {
  r.Read("name", kReq, &s.name);
  r.ReadEnum("type", kReq, kAlertSinkTypeWords, &s.type);
  r.Read("url", kOpt, &s.url);
  r.Read("timeout", kOpt, &s.timeout);
  r.Read("retries", kOpt, &s.retries);
}

void ReadMonitor(MapReader& r, MonitorSpec& m) {
  r.Read("name", kReq, &m.name);
  r.ReadEnum("type", kReq, kMonitorTypeWords, &m.type);
  r.Read("dataset", kReq, &m.dataset);
  r.Read("reference", kOpt, &m.reference);
  r.Read("current", kOpt, &m.current);
  r.Read("columns", kOpt, &m.columns);
  r.ReadEnum("method", kOpt, kDriftMethodWords, &m.method);
  r.Read("column", kOpt, &m.column);
  r.Read("metric", kOpt, &m.metric);
  r.Read("min", kOpt, &m.min);
  r.Read("max", kOpt, &m.max);
  r.Read("max_change", kOpt, &m.max_change);
  r.Read("max_zscore", kOpt, &m.max_zscore);
  r.Read("window", kOpt, &m.window);
  r.ReadEnum("severity", kOpt, kSeverityWords, &m.severity);
  r.Read("sinks", kOpt, &m.sinks);
}

void ReadFreshnessSlo(MapReader& r, FreshnessSloSpec& f) {
  r.Read("view", kReq, &f.view);
  r.Read("max_event_age", kOpt, &f.max_event_age);
  r.Read("max_ingest_latency", kOpt, &f.max_ingest_latency);
  r.ReadEnum("severity", kOpt, kSeverityWords, &f.severity);
  r.Read("sinks", kOpt, &f.sinks);
}

void ReadMonitoring(MapReader& r, MonitoringSpec& m) {
  r.ReadMap("drift", kOpt, [&](MapReader& d) {
    DriftSettingsSpec& s = m.drift;
    d.ReadEnum("method", kOpt, kDriftMethodWords, &s.method);
    d.Read("small_reference_rows", kOpt, &s.small_reference_rows);
    d.Read("drift_share", kOpt, &s.drift_share);
    d.Read("ks", kOpt, &s.ks);
    d.Read("chisquare", kOpt, &s.chisquare);
    d.Read("ztest", kOpt, &s.ztest);
    d.Read("wasserstein", kOpt, &s.wasserstein);
    d.Read("jensenshannon", kOpt, &s.jensenshannon);
    d.Read("psi", kOpt, &s.psi);
  });
  r.Read("profile_on_publish", kOpt, &m.profile_on_publish);
  r.Read("monitor_on_publish", kOpt, &m.monitor_on_publish);
  r.ReadList<AlertSinkSpec>("sinks", kOpt, &m.sinks, ReadAlertSink);
  r.ReadList<MonitorSpec>("monitors", kOpt, &m.monitors, ReadMonitor);
  r.ReadMap("serving_log", kOpt, [&](MapReader& l) {
    ServingLogSpec& s = m.serving_log;
    s.enabled = true;
    l.Read("enabled", kOpt, &s.enabled);
    std::optional<double> rate;
    l.Read("sample_rate", kOpt, &rate);
    if (rate) s.sample_rate = *rate;
    l.Read("dataset", kOpt, &s.dataset);
    l.Read("queue", kOpt, &s.queue);
    l.Read("flush_rows", kOpt, &s.flush_rows);
    l.Read("flush_interval", kOpt, &s.flush_interval);
  });
  r.ReadList<FreshnessSloSpec>("freshness", kOpt, &m.freshness, ReadFreshnessSlo);
}

}  // namespace

ProjectSpec ReadProjectFile(const YamlDocument& doc, FileRole role,
                            std::vector<Diagnostic>* diagnostics) {
  ProjectSpec spec;
  DiagnosticSink sink(doc.file, diagnostics);
  MapReader r(sink, doc.root, "", &spec.origin);
  if (!r.is_map()) return spec;

  // A section that is one map of its own, with its own Origin.
  auto section = [&](std::string_view key, Origin* origin,
                     const std::function<void(MapReader&)>& fn) {
    const YamlNode* v = r.Value(key, kOpt);
    if (!v) return;
    MapReader s(sink, *v, std::string(key), origin);
    if (!s.is_map()) return;
    fn(s);
    s.Finish();
  };

  if (role == FileRole::kMain) {
    r.Read("name", kReq, &spec.name);
    r.Read("version", kOpt, &spec.version);
    r.Read("include", kOpt, &spec.includes);
    section("lake", &spec.lake.origin, [&](MapReader& s) {
      s.Read("path", kOpt, &spec.lake.path);
      s.ReadEnum("compression", kOpt, kLakeCompressionWords, &spec.lake.compression);
    });
    section("registry", &spec.registry.origin, [&](MapReader& s) {
      s.Read("path", kOpt, &spec.registry.path);
      s.Read("openlineage_url", kOpt, &spec.registry.openlineage_url);
      s.Read("openlineage_file", kOpt, &spec.registry.openlineage_file);
      s.Read("openlineage_namespace", kOpt, &spec.registry.openlineage_namespace);
    });
    section("warehouse", &spec.warehouse.origin, [&](MapReader& s) {
      WarehouseSpec& w = spec.warehouse;
      s.ReadEnum("type", kOpt, kWarehouseTypeWords, &w.type);
      s.Read("path", kOpt, &w.path);
      s.Read("threads", kOpt, &w.threads);
      ReadConnection(s, &w.connection);
      s.Read("schema", kOpt, &w.schema);
    });
    section("monitoring", &spec.monitoring.origin,
            [&](MapReader& s) { ReadMonitoring(s, spec.monitoring); });
  } else {
    // Declared so they are not "unknown", but they belong to sluice.yaml alone.
    for (std::string_view key :
         {"name", "version", "lake", "registry", "warehouse", "monitoring"}) {
      if (r.Value(key, kOpt))
        r.Error(key, "'" + std::string(key) + "' may only be set in sluice.yaml");
    }
    if (r.Value("include", kOpt)) {
      r.Error("include",
              "'include' is only allowed in sluice.yaml (included files cannot include others, "
              "so include cycles are impossible)");
    }
  }
  r.ReadList<SourceSpec>("sources", kOpt, &spec.sources, ReadSource);
  r.ReadList<EntitySpec>("entities", kOpt, &spec.entities, ReadEntity);
  section("models", &spec.models.origin, [&](MapReader& s) {
    s.Read("dir", kOpt, &spec.models.dir);
    s.ReadList<ModelConfigSpec>("configs", kOpt, &spec.models.configs, ReadModelConfig);
  });
  r.ReadList<FeatureViewSpec>("feature_views", kOpt, &spec.feature_views, ReadFeatureView);
  r.ReadList<TrainingSetSpec>("training_sets", kOpt, &spec.training_sets, ReadTrainingSet);
  r.ReadList<OnlineStoreSpec>("online_stores", kOpt, &spec.online_stores, ReadOnlineStore);
  r.ReadList<FeatureServiceSpec>("feature_services", kOpt, &spec.feature_services,
                                 ReadFeatureService);
  r.ReadList<PipelineSpec>("pipelines", kOpt, &spec.pipelines, ReadPipeline);
  r.Finish();
  return spec;
}

}  // namespace sluice::config
