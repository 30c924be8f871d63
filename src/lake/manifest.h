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
  // The file started with a UTF-8 byte-order mark (as Excel writes CSV), which the reader
  // skipped; the stored bytes keep it.
  bool utf8_bom = false;
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
// with the id, created_at and checksum left out (ComputeManifestId says what else), so the same
// content always gets the same id.
struct Manifest {
  // Written by this sluice. Format 1 (ids over the output files' bytes for every kind) is still
  // read and verified by its own rule.
  static constexpr int kFormatVersion = 2;

  int format_version = kFormatVersion;
  std::string id;               // filled by ComputeManifestId / Publish
  std::string checksum;         // format 2: ComputeManifestChecksum, filled by Publish
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

// Canonical JSON: fixed key order, no insignificant whitespace, so hashing is stable. Without
// `include_volatile`, the id, created_at and checksum are left out.
std::string ToCanonicalJson(const Manifest& m, bool include_volatile = true);
// Pretty JSON for people (`sluice show`).
std::string ToPrettyJson(const Manifest& m);
// Strict parse: unknown format versions, missing or mistyped fields are errors naming the key.
base::Result<Manifest> ParseManifest(std::string_view json);
// The version id: SHA-256 over the canonical JSON without id, created_at and checksum. From
// format 2 on, a source version's outputs enter it by name and row count only, not by their
// bytes: an ingest's rows are a function of its inputs' bytes (in the id) and its definition (in
// the id), but DuckDB's parallel Parquet writer may cut the same rows into row groups
// differently from run to run, and the same data must keep the same name.
std::string ComputeManifestId(const Manifest& m);
// SHA-256 over the canonical JSON without id, created_at and checksum, output hashes included:
// what reading a format-2 manifest checks, so an edited output hash is caught as well.
std::string ComputeManifestChecksum(const Manifest& m);
// Whether the manifest's id and (format 2) checksum match its content.
bool ManifestIsIntact(const Manifest& m);

}  // namespace sluice::lake
