// The only file in sluice that includes yaml-cpp: it converts yaml-cpp's tree into YamlNode and
// turns every exception yaml-cpp can throw into a Diagnostic.
#include "config/yaml_document.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <charconv>
#include <exception>
#include <new>

namespace sluice::config {
namespace {

YamlMark ToMark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

// A limit was hit; reported like a syntax error at the node that crossed it.
struct LimitExceeded {
  YamlMark mark;
  std::string message;
};

class Converter {
 public:
  YamlNode Convert(const YAML::Node& node, int depth, YamlMark fallback) {
    if (++nodes_ > kMaxYamlNodes) {
      throw LimitExceeded{ToMark(node.Mark()), "document has more than " +
                                                   std::to_string(kMaxYamlNodes) +
                                                   " nodes (are aliases expanding recursively?)"};
    }
    if (depth > kMaxYamlDepth) {
      throw LimitExceeded{ToMark(node.Mark()), "nesting deeper than " +
                                                   std::to_string(kMaxYamlDepth) + " levels"};
    }
    YamlNode out;
    out.mark = ToMark(node.Mark());
    // An empty value ("key:") may carry no mark; the key's position is the best pointer.
    if (out.mark.line == 0) out.mark = fallback;
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        out.kind = YamlKind::kNull;
        break;
      case YAML::NodeType::Scalar:
        out.kind = YamlKind::kScalar;
        out.scalar = node.Scalar();
        out.quoted = node.Tag() == "!";
        break;
      case YAML::NodeType::Sequence:
        out.kind = YamlKind::kSequence;
        for (const auto& item : node) out.items.push_back(Convert(item, depth + 1, out.mark));
        break;
      case YAML::NodeType::Map:
        out.kind = YamlKind::kMap;
        for (const auto& kv : node) {
          YamlEntry entry;
          entry.key_mark = ToMark(kv.first.Mark());
          if (entry.key_mark.line == 0) entry.key_mark = out.mark;
          entry.key = kv.first.IsScalar() ? kv.first.Scalar()
                      : kv.first.IsNull() ? std::string()
                                          : std::string("<complex key>");
          entry.value = Convert(kv.second, depth + 1, entry.key_mark);
          // yaml-cpp marks an empty value ("key:") at the next token, often the next line.
          if (entry.value.kind == YamlKind::kNull) entry.value.mark = entry.key_mark;
          out.entries.push_back(std::move(entry));
        }
        break;
    }
    return out;
  }

 private:
  size_t nodes_ = 0;
};

bool LooksLikeInt(std::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool LooksLikeNumber(std::string_view s) {
  double d = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  return !s.empty() && ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

const YamlEntry* YamlNode::Find(std::string_view key) const {
  for (const auto& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

std::string DescribeYamlNode(const YamlNode& node) {
  switch (node.kind) {
    case YamlKind::kNull: return "null";
    case YamlKind::kMap: return "a map";
    case YamlKind::kSequence: return "a list";
    case YamlKind::kScalar: break;
  }
  if (node.quoted) return "a string";
  const std::string& s = node.scalar;
  if (s == "true" || s == "false" || s == "True" || s == "False") return "a bool";
  if (LooksLikeInt(s)) return "an int";
  if (LooksLikeNumber(s)) return "a number";
  return "a string";
}

base::Result<YamlDocument> ParseYamlDocument(std::string_view text, std::string file,
                                             std::vector<Diagnostic>* diagnostics) {
  auto fail = [&](YamlMark mark, std::string message) -> base::Status {
    diagnostics->push_back(Diagnostic{file, mark.line, mark.column, "", message, std::nullopt});
    return base::InvalidArgument(file + ": " + message);
  };
  if (text.size() > kMaxYamlBytes) {
    return fail({}, "file is larger than " + std::to_string(kMaxYamlBytes) + " bytes");
  }
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    YamlDocument out;
    out.file = file;
    if (docs.size() > 1) {
      return fail(ToMark(docs[1].Mark()), "only one YAML document per file is allowed");
    }
    if (!docs.empty()) out.root = Converter().Convert(docs[0], 0, YamlMark{1, 1});
    return out;
  } catch (const LimitExceeded& e) {
    return fail(e.mark, e.message);
  } catch (const YAML::Exception& e) {
    // e.msg is yaml-cpp's message without the "yaml-cpp: error at line..." prefix of what().
    return fail(ToMark(e.mark), "YAML syntax error: " + e.msg);
  } catch (const std::bad_alloc&) {
    return fail({}, "out of memory while parsing");
  } catch (const std::exception& e) {
    return fail({}, std::string("YAML parser failed: ") + e.what());
  } catch (...) {
    return fail({}, "YAML parser failed");
  }
}

}  // namespace sluice::config
