#include "lake/manifest.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <type_traits>

#include "lake/content_hash.h"

namespace sluice::lake {

using nlohmann::ordered_json;

namespace {

// What a rendering holds: everything, everything the checksum covers, or what names the version.
enum class Part { kAll, kChecksummed, kIdentity };

ordered_json ToJson(const Manifest& m, Part part) {
  const bool include_volatile = part == Part::kAll;
  const bool output_bytes = part != Part::kIdentity || m.format_version < 2 || m.kind != "source";
  ordered_json j;
  j["format_version"] = m.format_version;
  if (include_volatile) j["id"] = m.id;
  if (include_volatile && m.format_version >= 2) j["checksum"] = m.checksum;
  j["dataset"] = m.dataset;
  j["kind"] = m.kind;
  if (include_volatile) j["created_at"] = m.created_at;
  j["definition_hash"] = m.definition_hash;
  j["sluice_version"] = m.sluice_version;
  ordered_json schema = ordered_json::array();
  for (const auto& f : m.schema.fields()) {
    schema.push_back(
        {{"name", f.name}, {"type", types::LogicalTypeName(f.type)}, {"nullable", f.nullable}});
  }
  j["schema"] = schema;
  ordered_json inputs = ordered_json::array();
  for (const auto& in : m.inputs) {
    ordered_json input = {{"path", in.path}, {"sha256", in.sha256}, {"bytes", in.bytes}};
    // Only when set, so the ids of versions without one stay what they were.
    if (in.utf8_bom) input["utf8_bom"] = true;
    inputs.push_back(std::move(input));
  }
  j["inputs"] = inputs;
  j["parents"] = m.parents;
  j["rows"] = {
      {"read", m.rows.read}, {"loaded", m.rows.loaded}, {"quarantined", m.rows.quarantined}};
  ordered_json outputs = ordered_json::array();
  for (const auto& out : m.outputs) {
    if (output_bytes) {
      outputs.push_back(
          {{"name", out.name}, {"sha256", out.sha256}, {"bytes", out.bytes}, {"rows", out.rows}});
    } else {
      outputs.push_back({{"name", out.name}, {"rows", out.rows}});
    }
  }
  j["outputs"] = outputs;
  if (m.cursor) {
    j["cursor"] = {{"column", m.cursor->column}, {"value", m.cursor->value}};
  } else {
    j["cursor"] = nullptr;
  }
  return j;
}

// Typed field access that names the key on failure instead of throwing.
class Reader {
 public:
  base::Status status() const { return status_; }

  template <typename T>
  T Get(const ordered_json& obj, const char* key, const std::string& where) {
    if (!status_.ok()) return T{};
    auto it = obj.find(key);
    if (it == obj.end()) {
      status_ = base::Corruption("manifest: missing key '" + where + key + "'");
      return T{};
    }
    // Numbers must be integers of the right sign that fit: converting a float or an
    // out-of-range value would be undefined behaviour, not an error.
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      if (!it->is_number()) {
        status_ = base::Corruption("manifest: key '" + where + key + "' has the wrong type");
        return T{};
      }
      const bool fits = it->is_number_integer() &&
                        (it->is_number_unsigned()
                             ? it->template get<std::uint64_t>() <=
                                   static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                             : (std::is_signed_v<T> &&
                                it->template get<std::int64_t>() >=
                                    static_cast<std::int64_t>(std::numeric_limits<T>::min()) &&
                                it->template get<std::int64_t>() <=
                                    static_cast<std::int64_t>(std::numeric_limits<T>::max())));
      if (!fits) {
        status_ =
            base::Corruption("manifest: key '" + where + key + "' must be a whole number in range");
        return T{};
      }
    }
    try {
      return it->template get<T>();
    } catch (const nlohmann::json::exception&) {
      status_ = base::Corruption("manifest: key '" + where + key + "' has the wrong type");
      return T{};
    }
  }
  const ordered_json& Array(const ordered_json& obj, const char* key, const std::string& where) {
    static const ordered_json kEmpty = ordered_json::array();
    if (!status_.ok()) return kEmpty;
    auto it = obj.find(key);
    if (it == obj.end() || !it->is_array()) {
      status_ = base::Corruption("manifest: key '" + where + key + "' must be a list");
      return kEmpty;
    }
    return *it;
  }
  void Fail(std::string message) {
    if (status_.ok()) status_ = base::Corruption("manifest: " + std::move(message));
  }

 private:
  base::Status status_;
};

}  // namespace

std::string ToCanonicalJson(const Manifest& m, bool include_volatile) {
  return ToJson(m, include_volatile ? Part::kAll : Part::kChecksummed).dump();
}

std::string ToPrettyJson(const Manifest& m) {
  return ToJson(m, Part::kAll).dump(2);
}

std::string ComputeManifestId(const Manifest& m) {
  return Sha256Hex(ToJson(m, Part::kIdentity).dump());
}

std::string ComputeManifestChecksum(const Manifest& m) {
  return Sha256Hex(ToJson(m, Part::kChecksummed).dump());
}

bool ManifestIsIntact(const Manifest& m) {
  if (ComputeManifestId(m) != m.id) return false;
  return m.format_version < 2 || ComputeManifestChecksum(m) == m.checksum;
}

base::Result<Manifest> ParseManifest(std::string_view json) {
  ordered_json j = ordered_json::parse(json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return base::Corruption("manifest: not valid JSON");
  if (!j.is_object()) return base::Corruption("manifest: expected a JSON object");
  Reader r;
  Manifest m;
  const int version = r.Get<int>(j, "format_version", "");
  if (r.status().ok() && (version < 1 || version > Manifest::kFormatVersion)) {
    return base::Corruption("manifest: format_version " + std::to_string(version) +
                            " is not supported (this sluice reads 1 to " +
                            std::to_string(Manifest::kFormatVersion) + ")");
  }
  m.format_version = version;
  m.id = r.Get<std::string>(j, "id", "");
  if (version >= 2) m.checksum = r.Get<std::string>(j, "checksum", "");
  m.dataset = r.Get<std::string>(j, "dataset", "");
  m.kind = r.Get<std::string>(j, "kind", "");
  m.created_at = r.Get<std::string>(j, "created_at", "");
  m.definition_hash = r.Get<std::string>(j, "definition_hash", "");
  m.sluice_version = r.Get<std::string>(j, "sluice_version", "");
  std::vector<types::Field> fields;
  const auto& schema = r.Array(j, "schema", "");
  for (size_t i = 0; i < schema.size() && r.status().ok(); ++i) {
    const std::string where = "schema[" + std::to_string(i) + "].";
    if (!schema[i].is_object()) {
      r.Fail("'" + where.substr(0, where.size() - 1) + "' must be an object");
      break;
    }
    types::Field f;
    f.name = r.Get<std::string>(schema[i], "name", where);
    const auto type_name = r.Get<std::string>(schema[i], "type", where);
    f.nullable = r.Get<bool>(schema[i], "nullable", where);
    if (!r.status().ok()) break;
    auto type = types::ParseLogicalType(type_name);
    if (!type.ok()) {
      r.Fail("'" + where + "type': " + type.status().message());
      break;
    }
    f.type = *type;
    fields.push_back(std::move(f));
  }
  const auto& inputs = r.Array(j, "inputs", "");
  for (size_t i = 0; i < inputs.size() && r.status().ok(); ++i) {
    const std::string where = "inputs[" + std::to_string(i) + "].";
    if (!inputs[i].is_object()) {
      r.Fail("'" + where.substr(0, where.size() - 1) + "' must be an object");
      break;
    }
    InputFile in;
    in.path = r.Get<std::string>(inputs[i], "path", where);
    in.sha256 = r.Get<std::string>(inputs[i], "sha256", where);
    in.bytes = r.Get<std::uint64_t>(inputs[i], "bytes", where);
    if (inputs[i].contains("utf8_bom")) in.utf8_bom = r.Get<bool>(inputs[i], "utf8_bom", where);
    m.inputs.push_back(std::move(in));
  }
  m.parents = r.Get<std::vector<std::string>>(j, "parents", "");
  if (r.status().ok()) {
    auto it = j.find("rows");
    if (it == j.end() || !it->is_object()) {
      r.Fail("key 'rows' must be an object");
    } else {
      m.rows.read = r.Get<std::int64_t>(*it, "read", "rows.");
      m.rows.loaded = r.Get<std::int64_t>(*it, "loaded", "rows.");
      m.rows.quarantined = r.Get<std::int64_t>(*it, "quarantined", "rows.");
    }
  }
  const auto& outputs = r.Array(j, "outputs", "");
  for (size_t i = 0; i < outputs.size() && r.status().ok(); ++i) {
    const std::string where = "outputs[" + std::to_string(i) + "].";
    if (!outputs[i].is_object()) {
      r.Fail("'" + where.substr(0, where.size() - 1) + "' must be an object");
      break;
    }
    OutputFile out;
    out.name = r.Get<std::string>(outputs[i], "name", where);
    out.sha256 = r.Get<std::string>(outputs[i], "sha256", where);
    out.bytes = r.Get<std::uint64_t>(outputs[i], "bytes", where);
    out.rows = r.Get<std::int64_t>(outputs[i], "rows", where);
    m.outputs.push_back(std::move(out));
  }
  if (r.status().ok()) {
    auto it = j.find("cursor");
    if (it != j.end() && !it->is_null()) {
      if (!it->is_object()) {
        r.Fail("key 'cursor' must be an object or null");
      } else {
        m.cursor = Cursor{r.Get<std::string>(*it, "column", "cursor."),
                          r.Get<std::string>(*it, "value", "cursor.")};
      }
    }
  }
  SLUICE_RETURN_IF_ERROR(r.status());
  auto schema_or = types::Schema::Make(std::move(fields));
  if (!schema_or.ok()) return base::Corruption("manifest: schema: " + schema_or.status().message());
  m.schema = std::move(schema_or).value();
  std::int64_t sum = 0;
  if (m.rows.read < 0 || m.rows.loaded < 0 || m.rows.quarantined < 0 ||
      __builtin_add_overflow(m.rows.loaded, m.rows.quarantined, &sum) || sum != m.rows.read) {
    return base::Corruption("manifest: rows.loaded + rows.quarantined != rows.read");
  }
  return m;
}

}  // namespace sluice::lake
