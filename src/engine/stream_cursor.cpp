#include "engine/stream_cursor.h"

#include <nlohmann/json.hpp>

namespace sluice::engine {

using json = nlohmann::json;

StreamCounts& StreamCounts::operator+=(const StreamCounts& o) {
  consumed += o.consumed;
  applied += o.applied;
  quarantined += o.quarantined;
  late += o.late;
  return *this;
}

std::int64_t StreamCursor::SeenTotal() const {
  std::int64_t total = 0;
  for (const auto& [p, c] : partitions)
    total += c.seen_through;
  return total;
}

StreamCounts StreamCursor::Counts() const {
  StreamCounts total;
  for (const auto& [p, c] : partitions)
    total += c.counts;
  return total;
}

std::string EncodeStreamCursor(const StreamCursor& cursor) {
  json parts = json::array();
  for (const auto& [p, c] : cursor.partitions) {
    json j = {{"partition", p},
              {"resume", c.resume},
              {"seen_through", c.seen_through},
              {"applied_before", c.applied_before},
              {"consumed", c.counts.consumed},
              {"applied", c.counts.applied},
              {"quarantined", c.counts.quarantined},
              {"late", c.counts.late}};
    j["newest_before_resume"] = c.newest_before_resume ? json(*c.newest_before_resume) : json();
    parts.push_back(std::move(j));
  }
  return json{{"format", 2}, {"partitions", std::move(parts)}}.dump();
}

base::Result<StreamCursor> DecodeStreamCursor(std::string_view text, std::string_view what) {
  auto bad = [&](const std::string& why) {
    return base::Corruption(std::string(what) + ": not a stream cursor (" + why + ")");
  };
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  auto int_at = [&](const json& o, const char* key, std::int64_t* out) {
    auto it = o.find(key);
    if (it == o.end() || !it->is_number_integer()) return false;
    *out = it->get<std::int64_t>();
    return true;
  };
  std::int64_t format = 0;
  if (!int_at(j, "format", &format) || format != 2) return bad("unknown format");
  StreamCursor c;
  auto parts = j.find("partitions");
  if (parts == j.end() || !parts->is_array()) return bad("missing partitions");
  for (const json& p : *parts) {
    if (!p.is_object()) return bad("a partition is not an object");
    std::int64_t id = 0;
    StreamPartitionCursor pc;
    if (!int_at(p, "partition", &id) || !int_at(p, "resume", &pc.resume) ||
        !int_at(p, "seen_through", &pc.seen_through) || id < 0 || id > INT32_MAX || pc.resume < 0 ||
        pc.resume > pc.seen_through) {
      return bad("a partition's offsets are missing or out of order");
    }
    if (!int_at(p, "applied_before", &pc.applied_before) ||
        !int_at(p, "consumed", &pc.counts.consumed) || !int_at(p, "applied", &pc.counts.applied) ||
        !int_at(p, "quarantined", &pc.counts.quarantined) || !int_at(p, "late", &pc.counts.late)) {
      return bad("a partition's counts are missing");
    }
    auto newest = p.find("newest_before_resume");
    if (newest != p.end() && !newest->is_null()) {
      if (!newest->is_number_integer()) return bad("newest_before_resume is not an integer");
      pc.newest_before_resume = newest->get<std::int64_t>();
    }
    c.partitions[static_cast<std::int32_t>(id)] = pc;
  }
  return c;
}

}  // namespace sluice::engine
