#include "config/project_validator.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>
#include <set>

#include "base/cron.h"
#include "base/scalar_text.h"
#include "config/enum_words.h"
#include "config/map_reader.h"

namespace sluice::config {
namespace {

std::string Q(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string JoinWords(const std::vector<std::string>& words) {
  std::string out;
  for (size_t i = 0; i < words.size(); ++i)
    out += (i ? ", " : "") + words[i];
  return out;
}

std::string Indexed(std::string_view key, size_t i) {
  return std::string(key) + "[" + std::to_string(i) + "]";
}

template <typename T>
std::vector<std::string> NamesOf(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const auto& item : items)
    out.push_back(item.name);
  return out;
}

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Every "${" in `value` opens a reference ${NAME} to an environment variable.
bool ValidEnvReferences(std::string_view value) {
  for (size_t at = value.find("${"); at != std::string_view::npos; at = value.find("${", at)) {
    const size_t end = value.find('}', at);
    if (end == std::string_view::npos || end == at + 2) return false;
    for (size_t i = at + 2; i < end; ++i) {
      const char c = value[i];
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_')) return false;
    }
    at = end;
  }
  return true;
}

bool IsTimeType(types::LogicalType t) {
  return t == types::LogicalType::kTimestamp || t == types::LogicalType::kDate;
}

bool IsNumericType(types::LogicalType t) {
  return t == types::LogicalType::kInt64 || t == types::LogicalType::kDouble ||
         t == types::LogicalType::kBool;
}

class Validator {
 public:
  Validator(const ProjectSpec& spec, std::vector<Diagnostic>* out) : spec_(spec), out_(out) {
    source_names_ = NamesOf(spec.sources);
    model_names_ = NamesOf(spec.models.configs);
    for (const auto& f : spec.models.files) {
      if (!Contains(model_names_, f)) model_names_.push_back(f);
    }
    sources_and_models_ = source_names_;
    sources_and_models_.insert(sources_and_models_.end(), model_names_.begin(), model_names_.end());
  }

  void Run() {
    Project();
    for (const auto& s : spec_.sources)
      Source(s);
    Unique(spec_.sources, "source");
    for (const auto& e : spec_.entities)
      Entity(e);
    Unique(spec_.entities, "entity");
    Models();
    for (const auto& v : spec_.feature_views)
      FeatureView(v);
    Unique(spec_.feature_views, "feature view");
    for (const auto& t : spec_.training_sets)
      TrainingSet(t);
    Unique(spec_.training_sets, "training set");
    for (const auto& s : spec_.online_stores)
      OnlineStore(s);
    Unique(spec_.online_stores, "online store");
    for (const auto& s : spec_.feature_services)
      FeatureService(s);
    Unique(spec_.feature_services, "feature service");
    if (const auto& url = spec_.registry.openlineage_url;
        url && url->rfind("http://", 0) != 0 && url->rfind("https://", 0) != 0) {
      Report(spec_.registry.origin, "openlineage_url", "expected an http:// or https:// URL");
    }
    for (const auto& p : spec_.pipelines)
      Pipeline(p);
    Unique(spec_.pipelines, "pipeline");
    Monitoring(spec_.monitoring);
  }

 private:
  void Report(const Origin& o, std::string_view key, std::string message,
              std::optional<std::string> suggestion = std::nullopt) {
    const SourceSpan s = o.Of(key);
    out_->push_back(Diagnostic{s.file, s.line, s.column, s.key_path, std::move(message),
                               std::move(suggestion)});
  }

  // Empty names were already reported by the reader (missing or empty required key).
  void Name(const Origin& o, std::string_view key, const std::string& name) {
    if (name.empty() || IsValidName(name)) return;
    Report(o, key, "invalid name " + Q(name) + " (names must match [a-z_][a-z0-9_]*)");
  }

  // Reports `value` at `key` unless it is one of `candidates`. Returns whether it was found.
  bool Ref(const Origin& o, std::string_view key, const std::string& value,
           const std::vector<std::string>& candidates, std::string_view what) {
    if (value.empty() || Contains(candidates, value)) return true;
    Report(o, key, "unknown " + std::string(what) + " " + Q(value), SuggestWord(value, candidates));
    return false;
  }

  // Duplicates among items' names: reported at the later one, pointing at the first.
  template <typename T>
  void Unique(const std::vector<T>& items, std::string_view what) {
    std::map<std::string, const Origin*> first;
    for (const auto& item : items) {
      if (item.name.empty()) continue;
      auto [it, inserted] = first.emplace(item.name, &item.origin);
      if (!inserted) {
        Report(item.origin, "name",
               "duplicate " + std::string(what) + " " + Q(item.name) + " (first defined at " +
                   it->second->Of("name").Where() + ")");
      }
    }
  }

  // Duplicates within a list of strings of one element (keys, features, ...).
  void UniqueStrings(const Origin& o, std::string_view key, const std::vector<std::string>& v) {
    std::set<std::string_view> seen;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!seen.insert(v[i]).second) Report(o, Indexed(key, i), "duplicate entry " + Q(v[i]));
    }
  }

  void NotApplicable(const Origin& o, std::initializer_list<std::string_view> keys,
                     const std::string& why) {
    for (auto key : keys) {
      if (o.Has(key)) Report(o, key, "key " + Q(key) + " does not apply to " + why);
    }
  }

  void Required(const Origin& o, std::string_view key, bool present, const std::string& why) {
    if (!present) Report(o, key, "missing required key " + Q(key) + " for " + why);
  }

  void Positive(const Origin& o, std::string_view key, const std::optional<base::Duration>& d) {
    if (d && d->count() <= 0) Report(o, key, "must be a positive duration");
  }

  void Connection(const Origin& o, std::string_view prefix, const ConnectionSpec& c,
                  const std::string& what) {
    auto k = [&](std::string_view key) { return std::string(prefix) + std::string(key); };
    const bool dsn = c.dsn || c.dsn_env;
    const bool parts = c.host || c.database || c.user || c.password_env || o.Has(k("port"));
    if (c.dsn && c.dsn_env) Report(o, k("dsn_env"), "set only one of dsn and dsn_env");
    if (dsn && parts) {
      Report(o, c.dsn ? k("dsn") : k("dsn_env"),
             "set either a dsn or host/port/database/user/password_env, not both");
    } else if (!dsn && !c.host) {
      Report(o, prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1),
             what + " needs a connection: dsn, dsn_env, or host and database");
    } else if (!dsn && !c.database) {
      Report(o, k("database"), "missing required key 'database' (with host)");
    }
    if (c.port < 1 || c.port > 65535) Report(o, k("port"), "port must be in 1..65535");
  }

  void Project() {
    const Origin& o = spec_.origin;
    Name(o, "name", spec_.name);
    if (spec_.version != kConfigVersion) {
      Report(o, "version",
             "unsupported config version " + std::to_string(spec_.version) +
                 " (this sluice reads version " + std::to_string(kConfigVersion) + ")");
    }
    if (spec_.lake.path.empty()) Report(spec_.lake.origin, "path", "must not be empty");
    if (spec_.registry.path.empty()) Report(spec_.registry.origin, "path", "must not be empty");
    const WarehouseSpec& w = spec_.warehouse;
    if (w.origin.Invalid("type")) return;
    if (w.type == WarehouseType::kDuckdb) {
      NotApplicable(
          w.origin,
          {"dsn", "dsn_env", "host", "port", "database", "user", "password_env", "schema"},
          "a duckdb warehouse");
      if (w.path.empty()) Report(w.origin, "path", "must not be empty");
      if (w.threads && *w.threads < 1) Report(w.origin, "threads", "must be at least 1");
    } else {
      NotApplicable(w.origin, {"path", "threads"}, "a postgres warehouse");
      Connection(w.origin, "", w.connection, "a postgres warehouse");
    }
  }

  void Source(const SourceSpec& s) {
    const Origin& o = s.origin;
    Name(o, "name", s.name);
    if (Contains(model_names_, s.name)) {
      Report(o, "name", "source " + Q(s.name) + " has the same name as a model");
    }
    const std::string kind = std::string(config::Name(s.type)) + " sources";
    // With the type missing or unreadable, type-specific checks would only add noise.
    if (o.Valid("type")) switch (s.type) {
        case SourceType::kFile:
          NotApplicable(o,
                        {"table", "query", "cursor", "connection", "topic", "brokers", "group",
                         "start", "properties", "allowed_lateness"},
                        kind);
          Required(o, "format", o.Has("format"), kind);
          Required(o, "path", !s.path.empty(), kind);
          if (o.Has("csv") && s.format != FileFormat::kCsv) {
            Report(o, "csv", "csv options only apply to format csv");
          }
          break;
        case SourceType::kPostgres:
          NotApplicable(o,
                        {"format", "path", "compression", "csv", "topic", "brokers", "group",
                         "start", "properties", "allowed_lateness"},
                        kind);
          if (s.table && s.query) Report(o, "query", "set only one of table and query");
          if (!s.table && !s.query) Report(o, "table", "postgres sources need a table or a query");
          Connection(o, "connection.", s.connection, "a postgres source");
          break;
        case SourceType::kKafka:
          NotApplicable(o, {"path", "compression", "csv", "table", "query", "cursor", "connection"},
                        kind);
          Required(o, "topic", !s.topic.empty(), kind);
          Required(o, "brokers", !s.brokers.empty(), kind);
          if (o.Has("format") && s.format != FileFormat::kJsonl) {
            Report(o, "format", "kafka sources read JSON messages: format must be jsonl");
          }
          for (const auto& [key, value] : s.properties) {
            // sluice sets these itself: the stream's position lives with the view's state.
            if (key == "group.id" || key == "bootstrap.servers" || key == "enable.auto.commit" ||
                key == "auto.offset.reset" || key == "enable.auto.offset.store") {
              Report(
                  o, "properties." + key,
                  "sluice sets '" + key + "' itself (use the source keys brokers, group, start)");
            }
            if (!ValidEnvReferences(value)) {
              Report(o, "properties." + key,
                     "environment references must look like ${NAME} (letters, digits, _)");
            }
          }
          break;
      }
    if (o.Has("csv.delimiter") && s.csv.delimiter.size() != 1) {
      Report(o, "csv.delimiter", "must be exactly one character");
    }
    if (o.Has("csv.quote") && s.csv.quote.size() != 1) {
      Report(o, "csv.quote", "must be exactly one character");
    }
    if (s.csv.delimiter == s.csv.quote) Report(o, "csv.quote", "must differ from the delimiter");

    // The schema contract.
    if (o.Has("columns") && s.columns.empty()) {
      Report(o, "columns", "a source needs at least one column");
    }
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < s.columns.size(); ++i) {
      const std::string key = Indexed("columns", i) + ".name";
      const std::string& name = s.columns[i].name;
      Name(o, key, name);
      if (name.empty()) continue;
      auto [it, inserted] = seen.emplace(name, i);
      if (!inserted) {
        Report(o, key,
               "duplicate column " + Q(name) + " (first defined at " +
                   o.Of(Indexed("columns", it->second) + ".name").Where() + ")");
      }
    }
    std::vector<std::string> columns;
    for (const auto& c : s.columns)
      columns.push_back(c.name);
    if (s.event_time && Ref(o, "event_time", *s.event_time, columns, "column")) {
      if (const auto* f = s.FindColumn(*s.event_time); f && !IsTimeType(f->type)) {
        Report(o, "event_time",
               "event_time column " + Q(f->name) +
                   " must be a timestamp or "
                   "date, not " +
                   std::string(types::LogicalTypeName(f->type)));
      }
    }
    for (size_t i = 0; i < s.entity_keys.size(); ++i) {
      Ref(o, Indexed("entity_keys", i), s.entity_keys[i], columns, "column");
    }
    UniqueStrings(o, "entity_keys", s.entity_keys);
    if (s.cursor) Ref(o, "cursor", *s.cursor, columns, "column");
    if (s.error_budget < 0 || s.error_budget > 1) {
      Report(o, "error_budget", "must be between 0 and 1 (0% to 100%)");
    }
  }

  void Entity(const EntitySpec& e) {
    Name(e.origin, "name", e.name);
    if (e.origin.Has("keys") && e.keys.empty()) {
      Report(e.origin, "keys", "an entity needs at least one key");
    }
    for (size_t i = 0; i < e.keys.size(); ++i)
      Name(e.origin, Indexed("keys", i), e.keys[i]);
    UniqueStrings(e.origin, "keys", e.keys);
  }

  void Models() {
    const ModelsSpec& m = spec_.models;
    if (m.dir.empty()) Report(m.origin, "dir", "must not be empty");
    for (const auto& c : m.configs) {
      const Origin& o = c.origin;
      Name(o, "name", c.name);
      if (m.files_listed && !c.name.empty() && !Contains(m.files, c.name)) {
        Report(o, "name", "no file " + m.dir + "/" + c.name + ".sql for this model config",
               SuggestWord(c.name, m.files));
      }
      if (o.Invalid("materialized")) {
        // Already reported; which keys apply is unknown.
      } else if (c.materialized == Materialization::kIncremental) {
        Required(o, "cursor", c.cursor.has_value(), "incremental models");
      } else {
        NotApplicable(o, {"unique_key", "cursor"},
                      std::string(config::Name(c.materialized)) + " models (only incremental)");
      }
      for (const auto& t : c.tests)
        ModelTest(t);
    }
    Unique(m.configs, "model config");
  }

  void ModelTest(const ModelTestSpec& t) {
    const Origin& o = t.origin;
    if (!o.Valid("type")) return;
    const std::string kind = std::string(config::Name(t.type)) + " tests";
    // Keys each test type takes; the rest do not apply.
    static const std::map<ModelTestType, std::vector<std::string_view>> kKeys = {
        {ModelTestType::kNotNull, {"column"}},
        {ModelTestType::kUnique, {"column"}},
        {ModelTestType::kAcceptedValues, {"column", "values"}},
        {ModelTestType::kRelationships, {"column", "to", "field"}},
        {ModelTestType::kRowCount, {"min", "max"}},
        {ModelTestType::kFreshness, {"column", "max_age"}},
        {ModelTestType::kSql, {"sql"}},
    };
    const auto& allowed = kKeys.at(t.type);
    for (std::string_view key :
         {"column", "values", "to", "field", "min", "max", "max_age", "sql"}) {
      if (o.Has(key) && std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        Report(o, key, "key " + Q(key) + " does not apply to " + kind);
      }
    }
    for (std::string_view key : allowed) {
      if (key == "min" || key == "max") continue;
      Required(o, key, o.Has(key), kind);
    }
    if (t.type == ModelTestType::kAcceptedValues && o.Has("values") && t.values.empty()) {
      Report(o, "values", "needs at least one value");
    }
    if (t.type == ModelTestType::kRelationships && t.to) {
      Ref(o, "to", *t.to, sources_and_models_, "source or model");
    }
    if (t.type == ModelTestType::kRowCount) {
      if (!t.min && !t.max) Report(o, "min", "row_count tests need min, max or both");
      if (t.min && *t.min < 0) Report(o, "min", "must not be negative");
      if (t.min && t.max && *t.min > *t.max) Report(o, "max", "must not be less than min");
    }
    if (t.type == ModelTestType::kFreshness) Positive(o, "max_age", t.max_age);
  }

  void FeatureView(const FeatureViewSpec& v) {
    const Origin& o = v.origin;
    Name(o, "name", v.name);
    Ref(o, "entity", v.entity, NamesOf(spec_.entities), "entity");
    const SourceSpec* source = spec_.FindSource(v.source);
    Ref(o, "source", v.source, sources_and_models_, "source or model");
    // Column checks are only possible for declared sources; models' columns are known only
    // once their SQL runs.
    std::vector<std::string> source_columns;
    if (source) {
      for (const auto& c : source->columns)
        source_columns.push_back(c.name);
      if (const EntitySpec* e = spec_.FindEntity(v.entity)) {
        for (const auto& key : e->keys) {
          if (!Contains(source_columns, key)) {
            Report(o, "entity",
                   "key " + Q(key) + " of entity " + Q(e->name) + " is not a column of source " +
                       Q(source->name));
          }
        }
      }
      if (v.event_time && Ref(o, "event_time", *v.event_time, source_columns, "column")) {
        const auto* f = source->FindColumn(*v.event_time);
        if (f && !IsTimeType(f->type)) {
          Report(o, "event_time",
                 "column " + Q(f->name) + " must be a timestamp or date, not " +
                     std::string(types::LogicalTypeName(f->type)));
        }
      }
      if (!v.aggregations.empty() && !v.event_time && !source->event_time) {
        Report(o, "aggregations",
               "aggregations need an event time: set event_time on source " + Q(source->name) +
                   " or on this feature view");
      }
    }
    Positive(o, "ttl", v.ttl);
    Positive(o, "tile", v.tile);

    // One namespace for the view's features.
    std::map<std::string, const Origin*> features;
    auto feature = [&](const std::string& name, const Origin& fo) {
      Name(fo, "name", name);
      if (name.empty()) return;
      auto [it, inserted] = features.emplace(name, &fo);
      if (!inserted) {
        Report(fo, "name",
               "duplicate feature " + Q(name) + " in feature view " + Q(v.name) +
                   " (first defined at " + it->second->Of("name").Where() + ")");
      }
    };
    std::vector<std::string> input_columns = source_columns;
    for (const auto& c : v.columns) {
      feature(c.name, c.origin);
      input_columns.push_back(c.name);
    }
    for (const auto& a : v.aggregations) {
      feature(a.name, a.origin);
      Aggregation(v, a, source, input_columns);
    }
    for (const auto& d : v.derived)
      feature(d.name, d.origin);

    const std::vector<std::string> names = v.FeatureNames();
    for (const auto& t : v.transforms)
      Transform(v, t, names);
    for (const auto& [name, value] : v.defaults) {
      if (Ref(o, "defaults." + name, name, names, "feature")) Default(v, name, value, source);
    }
  }

  // A default must be a value of its feature's type, where the project file alone tells the
  // type; derived features, computed columns and models' columns are typed when the view is
  // loaded (engine::OnlineView), which checks the rest.
  void Default(const FeatureViewSpec& v, const std::string& name, const std::string& value,
               const SourceSpec* source) {
    const auto a = std::find_if(v.aggregations.begin(), v.aggregations.end(),
                                [&](const AggregationSpec& s) { return s.name == name; });
    if (a == v.aggregations.end() || !a->origin.Valid("function")) return;
    const bool transformed = std::any_of(v.transforms.begin(), v.transforms.end(),
                                         [&](const TransformSpec& t) { return t.feature == name; });
    if (transformed) return;  // the served value is the transform's output
    // The input column's type, when it is a declared column of a declared source.
    std::optional<types::LogicalType> input;
    if (a->column && source &&
        std::none_of(v.columns.begin(), v.columns.end(),
                     [&](const ComputedColumnSpec& c) { return c.name == *a->column; })) {
      if (const types::Field* f = source->FindColumn(*a->column)) input = f->type;
    }
    const bool integer_input =
        input && (*input == types::LogicalType::kInt64 || *input == types::LogicalType::kBool ||
                  *input == types::LogicalType::kTimestamp || *input == types::LogicalType::kDate);
    enum class Kind { kInteger, kNumber, kAny } kind = Kind::kAny;
    switch (a->function) {
      case AggregationFunction::kCount:
      case AggregationFunction::kApproxCountDistinct:
        kind = Kind::kInteger;
        break;
      case AggregationFunction::kMean:
      case AggregationFunction::kStddev:
      case AggregationFunction::kVariance:
        kind = Kind::kNumber;
        break;
      case AggregationFunction::kSum:
        kind = integer_input ? Kind::kInteger : Kind::kNumber;
        break;
      case AggregationFunction::kMin:
      case AggregationFunction::kMax:
      case AggregationFunction::kFirst:
      case AggregationFunction::kLast:
        if (input) {
          kind = integer_input                           ? Kind::kInteger
                 : *input == types::LogicalType::kDouble ? Kind::kNumber
                                                         : Kind::kAny;
        }
        break;
      case AggregationFunction::kLastK:
        break;
    }
    const std::string fn(config::Name(a->function));
    if (kind == Kind::kInteger) {
      if (auto n = base::ParseInt64(value); !n.ok()) {
        Report(v.origin, "defaults." + name,
               n.status().message() + ", and feature " + Q(name) + " (" + fn + ") is int64");
      }
    } else if (kind == Kind::kNumber) {
      if (auto d = base::ParseDouble(value); !d.ok()) {
        Report(v.origin, "defaults." + name,
               d.status().message() + ", and feature " + Q(name) + " (" + fn + ") is double");
      }
    }
  }

  void Aggregation(const FeatureViewSpec& v, const AggregationSpec& a, const SourceSpec* source,
                   const std::vector<std::string>& input_columns) {
    const Origin& o = a.origin;
    const std::string fn(config::Name(a.function));
    const bool known = o.Valid("function");
    if (known && a.function != AggregationFunction::kCount && !a.column) {
      Report(o, "column", "missing required key 'column' for function " + fn);
    }
    if (a.column && source) {
      const bool is_view_column =
          std::any_of(v.columns.begin(), v.columns.end(),
                      [&](const ComputedColumnSpec& c) { return c.name == *a.column; });
      if (Ref(o, "column", *a.column, input_columns, "column") && !is_view_column) {
        const types::Field* f = source->FindColumn(*a.column);
        const bool numeric_fn = a.function == AggregationFunction::kSum ||
                                a.function == AggregationFunction::kMean ||
                                a.function == AggregationFunction::kStddev ||
                                a.function == AggregationFunction::kVariance;
        if (known && f && numeric_fn && !IsNumericType(f->type)) {
          Report(o, "column",
                 fn + " needs a numeric column; " + Q(f->name) + " is " +
                     std::string(types::LogicalTypeName(f->type)));
        }
      }
    }
    if (!known) {
      // Already reported.
    } else if (a.function == AggregationFunction::kLastK) {
      if (!a.k) Report(o, "k", "missing required key 'k' for function last_k");
      if (a.k && *a.k < 1) Report(o, "k", "must be at least 1");
    } else if (o.Has("k")) {
      Report(o, "k", "key 'k' only applies to function last_k");
    }
    if (a.window) {
      if (a.window->count() <= 0) {
        Report(o, "window", "must be a positive duration or 'lifetime'");
      } else if (v.tile && v.tile->count() > 0 && a.window->count() % v.tile->count() != 0) {
        Report(o, "window",
               "window " + base::FormatDuration(*a.window) +
                   " is not a multiple of the view's tile " + base::FormatDuration(*v.tile));
      }
    }
  }

  void Transform(const FeatureViewSpec& v, const TransformSpec& t,
                 const std::vector<std::string>& features) {
    const Origin& o = t.origin;
    const std::string kind = std::string(config::Name(t.type)) + " transforms";
    Ref(o, "feature", t.feature, features, "feature of view " + Q(v.name) + ":");
    if (!o.Valid("type")) return;
    if (t.type == TransformType::kImpute) {
      Required(o, "strategy", t.strategy.has_value(), kind);
      if (t.strategy == ImputeStrategy::kConstant) {
        Required(o, "value", t.value.has_value(), "impute with strategy constant");
      } else {
        NotApplicable(o, {"value"}, "impute unless strategy is constant");
      }
    } else {
      NotApplicable(o, {"strategy", "value"}, kind);
    }
    if (t.type == TransformType::kClip) {
      if (!t.lower_quantile && !t.upper_quantile) {
        Report(o, "lower_quantile", "clip transforms need lower_quantile, upper_quantile or both");
      }
      for (auto [key, q] : {std::pair{"lower_quantile", t.lower_quantile},
                            std::pair{"upper_quantile", t.upper_quantile}}) {
        if (q && (*q < 0 || *q > 1)) Report(o, key, "must be between 0 and 1");
      }
      if (t.lower_quantile && t.upper_quantile && *t.lower_quantile >= *t.upper_quantile) {
        Report(o, "upper_quantile", "must be greater than lower_quantile");
      }
    } else {
      NotApplicable(o, {"lower_quantile", "upper_quantile"}, kind);
    }
    // Only a constant imputation needs no fitting.
    const bool fitted =
        !(t.type == TransformType::kImpute && t.strategy == ImputeStrategy::kConstant);
    if (fitted) Required(o, "fit_on", t.fit_on.has_value(), kind);
    if (!t.fit_on) return;
    if (!Ref(o, "fit_on", *t.fit_on, NamesOf(spec_.training_sets), "training set")) return;
    const TrainingSetSpec* ts = spec_.FindTrainingSet(*t.fit_on);
    if (ts && !Contains(ts->features, v.name) &&
        !Contains(ts->features, v.name + ":" + t.feature)) {
      Report(o, "fit_on",
             "training set " + Q(ts->name) + " does not include feature " +
                 Q(v.name + ":" + t.feature));
    }
  }

  // Checks "view" / "view:feature" references; returns the views they name.
  std::vector<const FeatureViewSpec*> FeatureRefs(const Origin& o,
                                                  const std::vector<std::string>& refs) {
    std::vector<const FeatureViewSpec*> views;
    const std::vector<std::string> view_names = NamesOf(spec_.feature_views);
    for (size_t i = 0; i < refs.size(); ++i) {
      const std::string key = Indexed("features", i);
      const std::string& ref = refs[i];
      const size_t colon = ref.find(':');
      const std::string view = ref.substr(0, colon);
      if (view.empty() || (colon != std::string::npos && colon + 1 == ref.size()) ||
          (colon != std::string::npos && ref.find(':', colon + 1) != std::string::npos)) {
        Report(o, key,
               "invalid feature reference " + Q(ref) + " (expected 'view' or 'view:feature')");
        continue;
      }
      if (!Ref(o, key, view, view_names, "feature view")) continue;
      const FeatureViewSpec* v = spec_.FindFeatureView(view);
      if (std::find(views.begin(), views.end(), v) == views.end()) views.push_back(v);
      if (colon == std::string::npos) continue;
      const std::string feature = ref.substr(colon + 1);
      const std::vector<std::string> names = v->FeatureNames();
      if (!Contains(names, feature)) {
        Report(o, key, "feature view " + Q(view) + " has no feature " + Q(feature),
               SuggestWord(feature, names));
      }
    }
    UniqueStrings(o, "features", refs);
    return views;
  }

  void TrainingSet(const TrainingSetSpec& t) {
    const Origin& o = t.origin;
    Name(o, "name", t.name);
    if (t.spine && t.spine_path) Report(o, "spine_path", "set only one of spine and spine_path");
    if (!t.spine && !t.spine_path) {
      Report(o, "spine",
             "missing required key 'spine' (a source or model) or 'spine_path' (a file)");
    }
    if (t.spine) Ref(o, "spine", *t.spine, sources_and_models_, "source or model");
    if (o.Has("keys") && t.keys.empty()) Report(o, "keys", "needs at least one key");
    UniqueStrings(o, "keys", t.keys);
    UniqueStrings(o, "labels", t.labels);
    if (const SourceSpec* s = t.spine ? spec_.FindSource(*t.spine) : nullptr) {
      std::vector<std::string> columns;
      for (const auto& c : s->columns)
        columns.push_back(c.name);
      Ref(o, "timestamp", t.timestamp, columns, "column of spine " + Q(s->name) + ":");
      for (size_t i = 0; i < t.keys.size(); ++i) {
        Ref(o, Indexed("keys", i), t.keys[i], columns, "column of spine " + Q(s->name) + ":");
      }
      for (size_t i = 0; i < t.labels.size(); ++i) {
        Ref(o, Indexed("labels", i), t.labels[i], columns, "column of spine " + Q(s->name) + ":");
      }
    }
    if (o.Has("features") && t.features.empty())
      Report(o, "features", "needs at least one feature");
    for (const FeatureViewSpec* v : FeatureRefs(o, t.features)) {
      const EntitySpec* e = spec_.FindEntity(v->entity);
      if (!e) continue;
      for (const auto& key : e->keys) {
        if (!Contains(t.keys, key)) {
          Report(o, "keys",
                 "feature view " + Q(v->name) + " is keyed by " + Q(key) + " (entity " +
                     Q(e->name) + "), which is not among the keys");
        }
      }
    }
    if (t.start && t.end && *t.start >= *t.end) Report(o, "end", "must be later than start");
    if (o.Has("formats") && t.formats.empty()) Report(o, "formats", "needs at least one format");
    std::set<DatasetFormat> formats;
    for (size_t i = 0; i < t.formats.size(); ++i) {
      if (!formats.insert(t.formats[i]).second) {
        Report(o, Indexed("formats", i), "duplicate format " + Q(config::Name(t.formats[i])));
      }
    }
  }

  void OnlineStore(const OnlineStoreSpec& s) {
    const Origin& o = s.origin;
    Name(o, "name", s.name);
    if (!o.Valid("type")) return;
    if (s.type == OnlineStoreType::kRocksdb) {
      NotApplicable(o, {"url"}, "rocksdb online stores");
      if (s.path.empty()) Report(o, "path", "must not be empty");
    } else {
      NotApplicable(o, {"path"}, "redis online stores");
      Required(o, "url", s.url.has_value(), "redis online stores");
      if (s.url && s.url->rfind("redis://", 0) != 0 && s.url->rfind("rediss://", 0) != 0 &&
          s.url->rfind("unix://", 0) != 0) {
        Report(o, "url", "expected a redis://, rediss:// or unix:// URL, got " + Q(*s.url));
      }
    }
  }

  void FeatureService(const FeatureServiceSpec& s) {
    Name(s.origin, "name", s.name);
    if (s.origin.Has("features") && s.features.empty()) {
      Report(s.origin, "features", "needs at least one feature");
    }
    FeatureRefs(s.origin, s.features);
    Ref(s.origin, "online_store", s.online_store, NamesOf(spec_.online_stores), "online store");
  }

  void Pipeline(const PipelineSpec& p) {
    const Origin& o = p.origin;
    Name(o, "name", p.name);
    if (p.schedule) {
      if (auto why = ScheduleError(*p.schedule)) {
        Report(o, "schedule", "invalid schedule " + Q(*p.schedule) + ": " + why->first,
               why->second);
      }
    }
    if (p.retries < 0) Report(o, "retries", "must not be negative");
    if (p.retry_backoff.count() < 0) Report(o, "retry_backoff", "must not be negative");
    if (p.retry_backoff_max.count() < 0) Report(o, "retry_backoff_max", "must not be negative");
    if (p.concurrency < 1 || p.concurrency > 256) Report(o, "concurrency", "must be 1 to 256");
    OneOf(o, "catchup", p.catchup, {"none", "latest", "all"});
    if (p.partition) OneOf(o, "partition", *p.partition, {"hour", "day"});
    if (p.max_active_runs < 1) Report(o, "max_active_runs", "must be at least 1");
    if (p.timezone && !IsTimeZoneName(*p.timezone)) {
      Report(o, "timezone",
             "invalid time zone name " + Q(*p.timezone) +
                 " (expected an IANA name such as "
                 "'Europe/Berlin' or 'UTC')");
    }
    if (p.timezone && !p.schedule) Report(o, "timezone", "a timezone needs a schedule");
    for (size_t i = 0; i < p.on_new_version.size(); ++i) {
      Ref(o, Indexed("on_new_version", i), p.on_new_version[i], source_names_, "source");
    }
    Positive(o, "timeout", p.timeout);
    if (o.Has("steps") && p.steps.empty()) Report(o, "steps", "a pipeline needs at least one step");
    for (const auto& s : p.steps)
      Step(s);
    Unique(p.steps, "step");
    StepGraph(p);
  }

  void OneOf(const Origin& o, std::string_view key, const std::string& value,
             const std::vector<std::string>& words) {
    if (Contains(words, value)) return;
    Report(o, key, "expected one of " + JoinWords(words) + ", got " + Q(value),
           SuggestWord(value, words));
  }

  // Syntax only (no I/O here): the zone itself is looked up when the scheduler starts.
  static bool IsTimeZoneName(const std::string& name) {
    if (name.empty() || name[0] == '/' || name.find("..") != std::string::npos) return false;
    return std::all_of(name.begin(), name.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '/' || c == '_' || c == '-' || c == '+';
    });
  }

  // Required and inapplicable keys of a step, by its kind.
  void StepKindKeys(const StepSpec& s, bool takes_sources, bool takes_models,
                    bool takes_training_set, bool takes_views) {
    const Origin& o = s.origin;
    const std::string kind = "steps with run: " + std::string(config::Name(s.run));
    if (!takes_sources) NotApplicable(o, {"sources"}, kind);
    if (!takes_models) NotApplicable(o, {"models"}, kind);
    if (!takes_training_set) NotApplicable(o, {"training_set"}, kind);
    if (!takes_views) NotApplicable(o, {"feature_views"}, kind);
    if (s.run != StepKind::kCommand) NotApplicable(o, {"command"}, kind);
    if (s.run != StepKind::kMonitor) NotApplicable(o, {"monitors", "fail_on_alert"}, kind);
    switch (s.run) {
      case StepKind::kIngest:
        Required(o, "sources", !s.sources.empty(), kind);
        break;
      case StepKind::kTrainingSet:
        Required(o, "training_set", s.training_set.has_value(), kind);
        break;
      case StepKind::kMaterialize:
        Required(o, "feature_views", !s.feature_views.empty(), kind);
        break;
      case StepKind::kCommand:
        Required(o, "command", s.command.has_value(), kind);
        break;
      case StepKind::kProfile:
      case StepKind::kDrift:
        if (s.sources.empty() && s.feature_views.empty() && !s.training_set) {
          Report(o, "sources", kind + " need sources, feature_views or a training_set");
        }
        break;
      case StepKind::kMonitor:
        if (spec_.monitoring.monitors.empty()) {
          Report(o, "run",
                 kind + " run the project's monitors, and monitoring.monitors declares none");
        }
        break;
      case StepKind::kBuild:
      case StepKind::kTest:
        break;
    }
  }

  void Step(const StepSpec& s) {
    const Origin& o = s.origin;
    Name(o, "name", s.name);
    // Which reference keys each kind of step takes; with `run` unreadable, check them all.
    const bool known = o.Valid("run");
    const bool takes_sources = !known || s.run == StepKind::kIngest ||
                               s.run == StepKind::kProfile || s.run == StepKind::kDrift;
    const bool takes_models = !known || s.run == StepKind::kBuild || s.run == StepKind::kTest;
    const bool takes_training_set = !known || s.run == StepKind::kTrainingSet ||
                                    s.run == StepKind::kProfile || s.run == StepKind::kDrift;
    const bool takes_views = !known || s.run == StepKind::kMaterialize ||
                             s.run == StepKind::kProfile || s.run == StepKind::kDrift;
    if (known) StepKindKeys(s, takes_sources, takes_models, takes_training_set, takes_views);
    if (takes_sources) {
      for (size_t i = 0; i < s.sources.size(); ++i) {
        Ref(o, Indexed("sources", i), s.sources[i], source_names_, "source");
      }
    }
    if (takes_models) {
      for (size_t i = 0; i < s.models.size(); ++i) {
        Ref(o, Indexed("models", i), s.models[i], model_names_, "model");
      }
    }
    if (takes_training_set && s.training_set) {
      Ref(o, "training_set", *s.training_set, NamesOf(spec_.training_sets), "training set");
    }
    if (takes_views) {
      for (size_t i = 0; i < s.feature_views.size(); ++i) {
        Ref(o, Indexed("feature_views", i), s.feature_views[i], NamesOf(spec_.feature_views),
            "feature view");
      }
    }
    if (known && s.run == StepKind::kMonitor) {
      for (size_t i = 0; i < s.monitors.size(); ++i) {
        Ref(o, Indexed("monitors", i), s.monitors[i], NamesOf(spec_.monitoring.monitors),
            "monitor");
      }
      UniqueStrings(o, "monitors", s.monitors);
    }
    if (s.retries && *s.retries < 0) Report(o, "retries", "must not be negative");
    if (s.retry_backoff && s.retry_backoff->count() < 0) {
      Report(o, "retry_backoff", "must not be negative");
    }
    Positive(o, "timeout", s.timeout);
  }

  // Dangling depends_on entries and cycles (each cycle reported once, at the step closing it).
  void StepGraph(const PipelineSpec& p) {
    const std::vector<std::string> names = NamesOf(p.steps);
    std::map<std::string, const StepSpec*> by_name;
    for (const auto& s : p.steps)
      by_name.emplace(s.name, &s);
    for (const auto& s : p.steps) {
      for (size_t i = 0; i < s.depends_on.size(); ++i) {
        Ref(s.origin, Indexed("depends_on", i), s.depends_on[i], names,
            "step in pipeline " + Q(p.name) + ":");
      }
      UniqueStrings(s.origin, "depends_on", s.depends_on);
    }
    // Iterative depth-first search: a long chain of steps must not exhaust the stack.
    enum class Mark { kNew, kActive, kDone };
    std::map<std::string, Mark> marks;
    struct Frame {
      const StepSpec* step;
      size_t next;  // index into step->depends_on
    };
    std::vector<Frame> stack;
    for (const auto& root : p.steps) {
      if (marks[root.name] != Mark::kNew) continue;
      marks[root.name] = Mark::kActive;
      stack.push_back({&root, 0});
      while (!stack.empty()) {
        Frame& top = stack.back();
        if (top.next == top.step->depends_on.size()) {
          marks[top.step->name] = Mark::kDone;
          stack.pop_back();
          continue;
        }
        const size_t i = top.next++;
        const StepSpec& s = *top.step;
        auto it = by_name.find(s.depends_on[i]);
        if (it == by_name.end()) continue;
        const Mark m = marks[it->first];
        if (m == Mark::kActive) {
          std::string cycle;
          auto from = std::find_if(stack.begin(), stack.end(),
                                   [&](const Frame& f) { return f.step->name == it->first; });
          for (auto f = from; f != stack.end(); ++f)
            cycle += f->step->name + " -> ";
          cycle += it->first;
          Report(s.origin, Indexed("depends_on", i),
                 "cycle in the steps of pipeline " + Q(p.name) + ": " + cycle);
        } else if (m == Mark::kNew) {
          marks[it->first] = Mark::kActive;
          stack.push_back({it->second, 0});
        }
      }
    }
  }

  // Why `schedule` is invalid (and a suggestion), or nullopt when it is valid.
  static std::optional<std::pair<std::string, std::optional<std::string>>> ScheduleError(
      const std::string& schedule) {
    using Error = std::pair<std::string, std::optional<std::string>>;
    static const std::vector<std::string> kMacros = {"@hourly", "@daily",    "@weekly",  "@monthly",
                                                     "@yearly", "@annually", "@midnight"};
    if (schedule.rfind("@every ", 0) == 0) {
      auto d = base::ParseDuration(schedule.substr(7));
      if (!d.ok()) return Error{d.status().message(), std::nullopt};
      if (d->count() <= 0) return Error{"the interval must be positive", std::nullopt};
      return std::nullopt;
    }
    if (!schedule.empty() && schedule[0] == '@') {
      if (Contains(kMacros, schedule)) return std::nullopt;
      return Error{"expected one of " + JoinWords(kMacros) + " or '@every <duration>'",
                   SuggestWord(schedule, kMacros)};
    }
    if (schedule.find(' ') == std::string::npos) {
      auto d = base::ParseDuration(schedule);
      if (!d.ok()) {
        return Error{"expected a duration, '@hourly'-style macro or 5-field cron line",
                     std::nullopt};
      }
      if (d->count() <= 0) return Error{"the interval must be positive", std::nullopt};
      return std::nullopt;
    }
    auto cron = base::ParseCronSchedule(schedule);
    if (!cron.ok()) return Error{cron.status().message(), std::nullopt};
    return std::nullopt;
  }

  // monitoring: thresholds in range, sinks complete, monitors' references and per-type keys.
  void Monitoring(const MonitoringSpec& m) {
    const Origin& o = m.origin;
    const DriftSettingsSpec& d = m.drift;
    auto in_open_unit = [&](std::string_view key, const std::optional<double>& v) {
      if (v && !(*v > 0 && *v < 1))
        Report(o, "drift." + std::string(key), "must be between 0 and 1");
    };
    auto positive = [&](std::string_view key, const std::optional<double>& v) {
      if (v && !(*v > 0)) Report(o, "drift." + std::string(key), "must be greater than 0");
    };
    in_open_unit("ks", d.ks);
    in_open_unit("chisquare", d.chisquare);
    in_open_unit("ztest", d.ztest);
    positive("wasserstein", d.wasserstein);
    positive("jensenshannon", d.jensenshannon);
    positive("psi", d.psi);
    if (d.drift_share && !(*d.drift_share > 0 && *d.drift_share <= 1)) {
      Report(o, "drift.drift_share", "must be greater than 0 and at most 1");
    }
    if (d.small_reference_rows && *d.small_reference_rows < 0) {
      Report(o, "drift.small_reference_rows", "must not be negative");
    }
    for (const auto& s : m.sinks) {
      Name(s.origin, "name", s.name);
      if (s.type == AlertSinkType::kWebhook) {
        Required(s.origin, "url", s.url.has_value(), "webhook sinks");
        if (s.url && s.url->rfind("http://", 0) != 0) {
          Report(s.origin, "url", "a webhook url must start with http:// (got " + Q(*s.url) + ")");
        }
        if (s.timeout.count() <= 0) Report(s.origin, "timeout", "must be a positive duration");
        if (s.retries < 0 || s.retries > 20) Report(s.origin, "retries", "must be 0..20");
      } else {
        NotApplicable(s.origin, {"url", "timeout", "retries"}, "log sinks");
      }
    }
    Unique(m.sinks, "alert sink");
    std::vector<std::string> datasets = sources_and_models_;
    for (const auto& t : spec_.training_sets)
      datasets.push_back(t.name);
    static const std::vector<std::string> kMetrics = {
        "rows", "count", "nulls", "null_share", "distinct", "mean", "stddev", "min",
        "max",  "p1",    "p5",    "p25",        "p50",      "p75",  "p95",    "p99"};
    for (const auto& mon : m.monitors) {
      const Origin& mo = mon.origin;
      Name(mo, "name", mon.name);
      Ref(mo, "dataset", mon.dataset, datasets, "dataset");
      for (size_t i = 0; i < mon.sinks.size(); ++i) {
        Ref(mo, Indexed("sinks", i), mon.sinks[i], NamesOf(m.sinks), "alert sink");
      }
      if (mon.type == MonitorType::kDrift) {
        Required(mo, "reference", mon.reference.has_value(), "drift monitors");
        NotApplicable(mo, {"column", "metric", "min", "max", "max_change", "max_zscore", "window"},
                      "drift monitors");
        UniqueStrings(mo, "columns", mon.columns);
      } else {
        NotApplicable(mo, {"reference", "current", "columns", "method"}, "metric monitors");
        Required(mo, "metric", mon.metric.has_value(), "metric monitors");
        if (mon.metric && !Contains(kMetrics, *mon.metric)) {
          Report(mo, "metric",
                 "unknown metric " + Q(*mon.metric) + " (one of " + JoinWords(kMetrics) + ")",
                 SuggestWord(*mon.metric, kMetrics));
        }
        if (mon.metric && *mon.metric != "rows") {
          Required(mo, "column", mon.column.has_value(), "metric " + Q(*mon.metric));
        }
        if (!mon.min && !mon.max && !mon.max_change && !mon.max_zscore) {
          Report(mo, "metric", "a metric monitor needs a rule: min, max, max_change or max_zscore");
        }
        if (mon.min && mon.max && *mon.min > *mon.max) Report(mo, "max", "must be at least min");
        if (mon.max_change && !(*mon.max_change > 0)) Report(mo, "max_change", "must be > 0");
        if (mon.max_zscore && !(*mon.max_zscore > 0)) Report(mo, "max_zscore", "must be > 0");
        if (mon.window < 2) Report(mo, "window", "must be at least 2");
      }
    }
    Unique(m.monitors, "monitor");
  }

  const ProjectSpec& spec_;
  std::vector<Diagnostic>* out_;
  std::vector<std::string> source_names_;
  std::vector<std::string> model_names_;
  std::vector<std::string> sources_and_models_;
};

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty()) return false;
  auto lower_or_underscore = [](char c) { return (c >= 'a' && c <= 'z') || c == '_'; };
  if (!lower_or_underscore(name[0])) return false;
  return std::all_of(name.begin() + 1, name.end(),
                     [&](char c) { return lower_or_underscore(c) || (c >= '0' && c <= '9'); });
}

void ValidateProject(const ProjectSpec& spec, std::vector<Diagnostic>* diagnostics) {
  Validator(spec, diagnostics).Run();
}

}  // namespace sluice::config
