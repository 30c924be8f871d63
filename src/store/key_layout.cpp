#include "store/key_layout.h"

#include <cstdint>
#include <type_traits>

namespace sluice::store {
namespace {

bool IsViewChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

// Fixed-width little-endian, independent of the host's byte order, so a store copied between
// machines reads the same.
template <typename T>
void PutFixed(std::string* out, T value) {
  auto u = static_cast<std::make_unsigned_t<T>>(value);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out->push_back(static_cast<char>(u & 0xff));
    u = static_cast<decltype(u)>(u >> 8);
  }
}

void PutString(std::string* out, std::string_view s) {
  PutFixed<std::uint32_t>(out, static_cast<std::uint32_t>(s.size()));
  out->append(s);
}

class Reader {
 public:
  explicit Reader(std::string_view bytes) : rest_(bytes) {}

  template <typename T>
  bool Fixed(T* value) {
    if (rest_.size() < sizeof(T)) return false;
    std::make_unsigned_t<T> u = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i) {
      u |= static_cast<decltype(u)>(static_cast<decltype(u)>(static_cast<unsigned char>(rest_[i]))
                                    << (8 * i));
    }
    *value = static_cast<T>(u);
    rest_.remove_prefix(sizeof(T));
    return true;
  }

  bool String(std::string* s) {
    std::uint32_t n = 0;
    if (!Fixed(&n) || rest_.size() < n) return false;
    s->assign(rest_.substr(0, n));
    rest_.remove_prefix(n);
    return true;
  }

  bool AtEnd() const { return rest_.empty(); }

 private:
  std::string_view rest_;
};

}  // namespace

base::Status ValidateViewName(std::string_view view) {
  if (view.empty()) return base::InvalidArgument("view name is empty");
  if (view.size() > kMaxViewNameBytes) {
    return base::InvalidArgument("view name is longer than " + std::to_string(kMaxViewNameBytes) +
                                 " bytes");
  }
  for (char c : view) {
    if (!IsViewChar(c)) {
      return base::InvalidArgument("view name '" + std::string(view) +
                                   "' may only hold letters, digits, '_', '.' and '-'");
    }
  }
  return base::Status::Ok();
}

std::string ValuePrefix(std::string_view view) {
  std::string key;
  key.reserve(kValuePrefix.size() + view.size() + 1);
  key.append(kValuePrefix).append(view).push_back('/');
  return key;
}

std::string ValueKey(std::string_view view, std::string_view entity) {
  std::string key;
  key.reserve(kValuePrefix.size() + view.size() + 1 + entity.size());
  key.append(kValuePrefix).append(view).append("/").append(entity);
  return key;
}

std::string PartPrefix(std::string_view view) {
  std::string key;
  key.reserve(kPartPrefix.size() + view.size() + 1);
  key.append(kPartPrefix).append(view).push_back('/');
  return key;
}

std::string PartKeyBytes(std::string_view view, std::string_view entity, std::string_view part) {
  std::string key = PartPrefix(view);
  const auto n = static_cast<std::uint32_t>(entity.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    key.push_back(static_cast<char>((n >> shift) & 0xff));
  key.append(entity).append(part);
  return key;
}

std::string MetaKey(std::string_view view) {
  std::string key(kMetaPrefix);
  key.append(view);
  return key;
}

std::string SideKey(std::string_view view, std::string_view name) {
  std::string key(kSidePrefix);
  key.append(view);
  key += '/';
  key.append(name);
  return key;
}

base::Status ValidateSideName(std::string_view name) {
  base::Status s = ValidateViewName(name);
  if (s.ok()) return s;
  return base::InvalidArgument("side entry name '" + std::string(name) +
                               "' must be 1 to 200 characters of A-Z a-z 0-9 _ . -");
}

base::Result<StoreKey> ParseValueKey(std::string_view key) {
  if (key.substr(0, kValuePrefix.size()) != kValuePrefix) {
    return base::InvalidArgument("not a value key: it does not start with '" +
                                 std::string(kValuePrefix) + "'");
  }
  key.remove_prefix(kValuePrefix.size());
  const auto slash = key.find('/');
  if (slash == std::string_view::npos) {
    return base::InvalidArgument("not a value key: no '/' after the view name");
  }
  StoreKey parsed{std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
  SLUICE_RETURN_IF_ERROR(ValidateViewName(parsed.view));
  return parsed;
}

std::string EncodeViewMeta(const ViewMeta& meta) {
  std::string out;
  out.push_back(static_cast<char>(kMetaFormat));
  PutString(&out, meta.source_version);
  PutString(&out, meta.definition_hash);
  PutFixed<std::int64_t>(&out, meta.newest_event_micros);
  PutFixed<std::int64_t>(&out, meta.entities);
  PutString(&out, meta.materialized_at);
  PutFixed<std::int32_t>(&out, meta.encoding_version);
  return out;
}

base::Result<ViewMeta> DecodeViewMeta(std::string_view bytes, std::string_view what) {
  if (bytes.empty()) return base::Corruption("meta " + std::string(what) + " is empty");
  const auto format = static_cast<unsigned char>(bytes[0]);
  if (format != kMetaFormat) {
    return base::Corruption("meta " + std::string(what) + " has format " + std::to_string(format) +
                            "; this sluice reads format " + std::to_string(kMetaFormat) +
                            " (written by a newer sluice?)");
  }
  Reader r(bytes.substr(1));
  ViewMeta meta;
  if (!r.String(&meta.source_version) || !r.String(&meta.definition_hash) ||
      !r.Fixed(&meta.newest_event_micros) || !r.Fixed(&meta.entities) ||
      !r.String(&meta.materialized_at) || !r.Fixed(&meta.encoding_version) || !r.AtEnd()) {
    return base::Corruption("meta " + std::string(what) + " is truncated or has trailing bytes");
  }
  return meta;
}

}  // namespace sluice::store
