// The only file in sluice that includes yaml-cpp: it converts yaml-cpp's tree into YamlNode and
// turns every exception yaml-cpp can throw into a Diagnostic.
#include "config/yaml_document.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <cctype>
#include <charconv>
#include <exception>
#include <map>
#include <new>
#include <optional>
#include <sstream>

namespace sluice::config {
namespace {

YamlMark ToMark(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

// A problem found while building the tree; reported like a syntax error.
struct BuildError {
  YamlMark mark;
  std::string message;
};

size_t CountNodes(const YamlNode& n) {
  size_t count = 1;
  for (const auto& item : n.items)
    count += CountNodes(item);
  for (const auto& e : n.entries)
    count += 1 + CountNodes(e.value);
  return count;
}

// Builds a YamlNode tree straight from yaml-cpp's parse events. Going through events instead of
// YAML::Load gives every key its own mark, bounds depth and alias expansion before anything is
// allocated, and avoids YAML::LoadAll, which loops forever on some invalid input (yaml-cpp#1040).
class TreeBuilder : public YAML::EventHandler {
 public:
  bool done() const { return done_; }
  YamlNode TakeRoot() { return std::move(root_); }
  YamlMark first_mark() const { return first_mark_; }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    YamlNode n;
    n.mark = ToMark(mark);
    Complete(std::move(n), anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end())
      throw BuildError{ToMark(mark), "alias refers to a node that contains it"};
    Count(it->second.second, ToMark(mark));
    YamlNode copy = it->second.first;
    copy.mark = ToMark(mark);
    Complete(std::move(copy), YAML::NullAnchor);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YamlNode n;
    n.kind = YamlKind::kScalar;
    n.mark = ToMark(mark);
    n.scalar = value;
    n.quoted = tag == "!";  // yaml-cpp tags quoted scalars "!" and plain ones "?"
    Complete(std::move(n), anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(YamlKind::kSequence, mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(YamlKind::kMap, mark, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    YamlNode node;
    YAML::anchor_t anchor;
    std::optional<YamlNode> key;  // maps: a key waiting for its value
  };

  void Count(size_t n, YamlMark mark) {
    nodes_ += n;
    if (nodes_ > kMaxYamlNodes) {
      throw BuildError{mark, "document has more than " + std::to_string(kMaxYamlNodes) +
                                 " nodes (are aliases expanding recursively?)"};
    }
  }

  void Open(YamlKind kind, const YAML::Mark& mark, YAML::anchor_t anchor) {
    if (stack_.size() >= static_cast<size_t>(kMaxYamlDepth)) {
      throw BuildError{ToMark(mark),
                       "nesting deeper than " + std::to_string(kMaxYamlDepth) + " levels"};
    }
    Frame f{YamlNode{}, anchor, std::nullopt};
    f.node.kind = kind;
    f.node.mark = ToMark(mark);
    stack_.push_back(std::move(f));
  }

  void Close() {
    if (stack_.empty()) return;
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    Complete(std::move(f.node), f.anchor);
  }

  void Complete(YamlNode node, YAML::anchor_t anchor) {
    Count(1, node.mark);
    if (first_mark_.line == 0) first_mark_ = node.mark;
    if (anchor != YAML::NullAnchor) anchors_[anchor] = {node, CountNodes(node)};
    if (stack_.empty()) {
      root_ = std::move(node);
      done_ = true;
      return;
    }
    Frame& top = stack_.back();
    if (top.node.kind == YamlKind::kSequence) {
      top.node.items.push_back(std::move(node));
    } else if (!top.key) {
      top.key = std::move(node);
    } else {
      YamlEntry entry;
      entry.key_mark = top.key->mark.line ? top.key->mark : top.node.mark;
      entry.key = top.key->kind == YamlKind::kScalar ? top.key->scalar
                  : top.key->kind == YamlKind::kNull ? std::string()
                                                     : std::string("<complex key>");
      entry.value = std::move(node);
      // yaml-cpp marks an empty value ("key:") at the next token, often the next line.
      if (entry.value.kind == YamlKind::kNull || entry.value.mark.line == 0) {
        entry.value.mark = entry.key_mark;
      }
      top.node.entries.push_back(std::move(entry));
      top.key.reset();
    }
  }

  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, std::pair<YamlNode, size_t>> anchors_;
  YamlNode root_;
  YamlMark first_mark_;
  size_t nodes_ = 0;
  bool done_ = false;
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
    case YamlKind::kNull:
      return "null";
    case YamlKind::kMap:
      return "a map";
    case YamlKind::kSequence:
      return "a list";
    case YamlKind::kScalar:
      break;
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
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    YamlDocument out;
    out.file = file;
    TreeBuilder first;
    if (!parser.HandleNextDocument(first)) return out;  // empty stream
    out.root = first.TakeRoot();
    TreeBuilder second;
    if (parser.HandleNextDocument(second)) {
      // yaml-cpp "parses" some invalid input (a stray ',') as endless null documents without
      // moving on; the second one then starts where the first did.
      if (second.first_mark().line == first.first_mark().line &&
          second.first_mark().column == first.first_mark().column) {
        return fail(first.first_mark(), "YAML syntax error: unexpected character");
      }
      return fail(second.first_mark(), "only one YAML document per file is allowed");
    }
    return out;
  } catch (const BuildError& e) {
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
