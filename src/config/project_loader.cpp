#include "config/project_loader.h"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <system_error>

#include "config/project_reader.h"
#include "config/project_validator.h"
#include "config/yaml_document.h"

namespace sluice::config {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kMainFile = "sluice.yaml";

void Report(std::vector<Diagnostic>* out, const SourceSpan& at, std::string message) {
  out->push_back(Diagnostic{at.file, at.line, at.column, at.key_path, std::move(message), {}});
}

base::Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return base::IoError("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return base::IoError("cannot read " + path.string());
  return text.str();
}

bool HasGlob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// Project-relative paths of regular files matching `pattern` (one fnmatch per path component,
// so '*' never crosses '/'), sorted.
std::vector<std::string> ExpandGlob(const fs::path& dir, const fs::path& pattern) {
  std::vector<fs::path> current = {fs::path()};
  for (const auto& part : pattern) {
    std::vector<fs::path> next;
    const std::string p = part.string();
    for (const auto& base : current) {
      if (!HasGlob(p)) {
        next.push_back(base / part);
        continue;
      }
      std::error_code ec;
      for (fs::directory_iterator it(dir / base, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (name.front() == '.' && p.front() != '.') continue;  // hidden, as in the shell
        if (::fnmatch(p.c_str(), name.c_str(), FNM_PERIOD) == 0) next.push_back(base / name);
      }
    }
    current = std::move(next);
  }
  std::vector<std::string> out;
  for (const auto& rel : current) {
    std::error_code ec;
    if (fs::is_regular_file(dir / rel, ec)) out.push_back(rel.generic_string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Appends an included file's sections. Single-valued settings may be set in one file only.
void Merge(ProjectSpec& into, ProjectSpec&& part, std::vector<Diagnostic>* diagnostics) {
  auto append = [](auto& to, auto& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  append(into.sources, part.sources);
  append(into.entities, part.entities);
  append(into.models.configs, part.models.configs);
  append(into.feature_views, part.feature_views);
  append(into.training_sets, part.training_sets);
  append(into.online_stores, part.online_stores);
  append(into.feature_services, part.feature_services);
  append(into.pipelines, part.pipelines);
  if (part.models.origin.Has("dir")) {
    if (into.models.origin.Has("dir")) {
      Report(diagnostics, part.models.origin.Of("dir"),
             "models.dir is already set at " + into.models.origin.Of("dir").Where());
    } else {
      into.models.dir = part.models.dir;
      into.models.origin.fields["dir"] = part.models.origin.Of("dir");
    }
  }
}

// Resolves sluice.yaml's includes against `dir`, reading and merging each file once.
bool LoadIncludes(const fs::path& dir, ProjectSpec& spec, std::vector<Diagnostic>* diagnostics) {
  bool syntax_ok = true;
  std::set<std::string> seen = {std::string(kMainFile)};
  for (size_t i = 0; i < spec.includes.size(); ++i) {
    const std::string& pattern = spec.includes[i];
    const SourceSpan at = spec.origin.Of("include[" + std::to_string(i) + "]");
    const fs::path rel = fs::path(pattern).lexically_normal();
    if (pattern.empty() || rel.is_absolute() || *rel.begin() == "..") {
      Report(diagnostics, at,
             "include '" + pattern + "' must be a relative path inside the project");
      continue;
    }
    std::vector<std::string> files;
    if (HasGlob(pattern)) {
      files = ExpandGlob(dir, rel);
      if (files.empty()) Report(diagnostics, at, "include '" + pattern + "' matches no files");
      // A pattern like *.yaml also matches sluice.yaml, which is not an include.
      std::erase(files, std::string(kMainFile));
    } else if (rel.generic_string() == kMainFile) {
      Report(diagnostics, at, "sluice.yaml cannot include itself");
      continue;
    } else {
      std::error_code ec;
      if (!fs::is_regular_file(dir / rel, ec)) {
        Report(diagnostics, at, "included file '" + pattern + "' does not exist");
        continue;
      }
      files.push_back(rel.generic_string());
    }
    for (const auto& file : files) {
      if (!seen.insert(file).second) continue;
      auto text = ReadFile(dir / file);
      if (!text.ok()) {
        Report(diagnostics, at, text.status().message());
        continue;
      }
      spec.files.push_back(file);
      auto doc = ParseYamlDocument(*text, file, diagnostics);
      if (!doc.ok()) {
        syntax_ok = false;
        continue;
      }
      Merge(spec, ReadProjectFile(*doc, FileRole::kIncluded, diagnostics), diagnostics);
    }
  }
  return syntax_ok;
}

void ListModelFiles(const fs::path& dir, ModelsSpec& models, std::vector<Diagnostic>* diagnostics) {
  models.files_listed = true;
  const fs::path models_dir = dir / models.dir;
  std::error_code ec;
  if (!fs::exists(models_dir, ec)) return;  // no models: references to them are reported
  for (fs::directory_iterator it(models_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".sql") models.files.push_back(it->path().stem().string());
  }
  if (ec)
    Report(diagnostics, models.origin.Of("dir"),
           "cannot list " + models_dir.string() + ": " + ec.message());
  std::sort(models.files.begin(), models.files.end());
}

base::Result<ProjectSpec> Load(std::string_view yaml, const std::string& file_name,
                               const std::optional<fs::path>& dir, const std::string& what,
                               std::vector<Diagnostic>* diagnostics) {
  std::vector<Diagnostic> found;
  std::optional<ProjectSpec> spec;
  bool syntax_ok = false;
  if (auto doc = ParseYamlDocument(yaml, file_name, &found); doc.ok()) {
    spec = ReadProjectFile(*doc, FileRole::kMain, &found);
    spec->files.push_back(file_name);
    syntax_ok = true;
    if (dir) {
      spec->dir = *dir;
      syntax_ok = LoadIncludes(*dir, *spec, &found);
      ListModelFiles(*dir, spec->models, &found);
    }
    // With a file that could not be parsed, every reference into it would be reported as
    // dangling: noise that hides the real error.
    if (syntax_ok) ValidateProject(*spec, &found);
  }
  // Files in the order read (sluice.yaml first), then by position.
  std::map<std::string, size_t> rank;
  if (spec) {
    for (const auto& f : spec->files)
      rank.emplace(f, rank.size());
  }
  std::stable_sort(found.begin(), found.end(), [&](const Diagnostic& a, const Diagnostic& b) {
    auto key = [&](const Diagnostic& d) {
      auto it = rank.find(d.file);
      return std::make_tuple(it == rank.end() ? rank.size() : it->second, d.line, d.column);
    };
    return key(a) < key(b);
  });
  const size_t errors = found.size();
  if (diagnostics) diagnostics->insert(diagnostics->end(), found.begin(), found.end());
  if (errors == 0) return std::move(*spec);
  return base::InvalidArgument(what + " has " + std::to_string(errors) +
                               (errors == 1 ? " error" : " errors"));
}

}  // namespace

base::Result<ProjectSpec> LoadProject(const fs::path& dir, std::vector<Diagnostic>* diagnostics) {
  const fs::path main = dir / kMainFile;
  std::error_code ec;
  if (!fs::is_regular_file(main, ec)) {
    if (diagnostics) {
      diagnostics->push_back(
          Diagnostic{std::string(kMainFile), 0, 0, "", "no sluice.yaml in " + dir.string(), {}});
    }
    return base::NotFound("no sluice.yaml in " + dir.string() + " (is it a sluice project?)");
  }
  auto text = ReadFile(main);
  if (!text.ok()) {
    if (diagnostics) {
      diagnostics->push_back(
          Diagnostic{std::string(kMainFile), 0, 0, "", text.status().message(), {}});
    }
    return text.status();
  }
  return Load(*text, std::string(kMainFile), dir, "project at " + dir.string(), diagnostics);
}

base::Result<ProjectSpec> LoadProjectFromString(std::string_view yaml, std::string file_name,
                                                std::vector<Diagnostic>* diagnostics,
                                                const std::optional<fs::path>& dir) {
  return Load(yaml, file_name, dir, "project file " + file_name, diagnostics);
}

}  // namespace sluice::config
