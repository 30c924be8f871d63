#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "types/schema.h"

namespace sluice::lake {

// A file that went into a dataset version, stored once in the lake's object store by content.
struct InputFile {
  std::string path;    // where it came from, as the source names it (never credentials)
  std::string sha256;  // content address in lake/objects
  std::uint64_t bytes = 0;
  bool operator==(const InputFile&) const = default;
};

// A file the version holds (the typed Parquet copy, the quarantine).
struct OutputFile {
  std::string name;  // relative to the version's folder, e.g. "data.parquet"
  std::string sha256;
  std::uint64_t bytes = 0;
  std::int64_t rows = 0;
  bool operator==(const OutputFile&) const = default;
};

struct RowCounts {
  std::int64_t read = 0;         // rows seen in the input
  std::int64_t loaded = 0;       // rows in the typed copy
  std::int64_t quarantined = 0;  // rows set aside with a reason; loaded + quarantined == read
  bool operator==(const RowCounts&) const = default;
};

// Where an incremental extraction stopped: the next run reads rows with cursor > value.
struct Cursor {
  std::string column;
  std::string value;  // canonical text of the largest cursor value loaded
  bool operator==(const Cursor&) const = default;
};

// The description of one immutable dataset version. Its id is the SHA-256 of its canonical JSON
// with the id and created_at left out, so the same content always gets the same id.
struct Manifest {
  static constexpr int kFormatVersion = 1;

  std::string id;               // filled by ComputeId / Publish
  std::string dataset;          // source, model or training set name
  std::string kind;             // "source", "model", "training_set"
  std::string created_at;       // ISO-8601 processing time; not part of the id
  std::string definition_hash;  // hash of the definition that produced it (contract, SQL...)
  std::vector<InputFile> inputs;
  std::vector<std::string> parents;  // dataset version ids this one was derived from
  types::Schema schema;
  RowCounts rows;
  std::vector<OutputFile> outputs;
  std::optional<Cursor> cursor;
  std::string sluice_version;

  bool operator==(const Manifest&) const = default;
};

// Canonical JSON: fixed key order, no insignificant whitespace, so hashing is stable.
std::string ToCanonicalJson(const Manifest& m, bool include_volatile = true);
// Pretty JSON for people (`sluice show`).
std::string ToPrettyJson(const Manifest& m);
// Strict parse: unknown format versions, missing or mistyped fields are errors naming the key.
base::Result<Manifest> ParseManifest(std::string_view json);
// SHA-256 over the canonical JSON without id and created_at.
std::string ComputeManifestId(const Manifest& m);

}  // namespace sluice::lake
