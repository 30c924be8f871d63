#include "connectors/json_keys_scan.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "connectors/file_reader.h"
#include "warehouse/duckdb_database.h"

namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;

class JsonKeysScanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           (std::string("sluice_json_keys_") + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    auto db = warehouse::DuckDb::Open(":memory:");
    ASSERT_TRUE(db.ok());
    db_.emplace(std::move(db).value());
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& text) {
    const fs::path path = dir_ / "x.jsonl";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
    return path;
  }

  // What the contract check asked DuckDB before this scan existed (ObserveSql).
  std::vector<std::string> DuckDbKeys(const fs::path& path) {
    config::SourceSpec spec;
    spec.format = config::FileFormat::kJsonl;
    auto rows = db_->Query(ObserveSql(spec, path.string()));
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    std::vector<std::string> keys;
    if (!rows.ok()) return keys;
    for (size_t r = 0; r < rows->num_rows(); ++r)
      keys.emplace_back(rows->column(0).GetString(r));
    return keys;
  }

  // The scan of `text`, in memory and from a file (the same answer both ways); where it is
  // sure, checked against DuckDB's keys and CountJsonObjectLines.
  std::optional<JsonLinesKeys> Scan(const std::string& text) {
    const auto in_memory = ScanJsonLinesKeys(text);
    const fs::path path = Write(text);
    auto from_file = ScanJsonLinesKeysFile(path, 2);
    EXPECT_TRUE(from_file.ok());
    EXPECT_EQ(in_memory.has_value(), from_file.ok() && from_file->has_value());
    if (!in_memory) return in_memory;
    if (from_file.ok() && from_file->has_value()) {
      EXPECT_EQ((*from_file)->keys, in_memory->keys);
      EXPECT_EQ((*from_file)->object_lines, in_memory->object_lines);
    }
    EXPECT_EQ(in_memory->keys, DuckDbKeys(path)) << text;
    auto counted = CountJsonObjectLines(path);
    EXPECT_TRUE(counted.ok());
    if (counted.ok()) {
      EXPECT_EQ(in_memory->object_lines, *counted) << text;
    }
    return in_memory;
  }

  using Keys = std::vector<std::string>;
  fs::path dir_;
  std::optional<warehouse::DuckDb> db_;
};

TEST_F(JsonKeysScanTest, KeysComeInDuckDbsOrder) {
  // One line: by name. Later lines: by the line a key first appears on, then by name.
  EXPECT_EQ(Scan("{\"b\":1,\"a\":2}\n{\"b\":3,\"a\":4}\n")->keys, (Keys{"a", "b"}));
  EXPECT_EQ(Scan("{\"z\":1}\n{\"z\":1}\n{\"b\":1,\"a\":[1,{\"y\":2}]}\n{\"c\":{}}")->keys,
            (Keys{"z", "a", "b", "c"}));
  // Names compare as bytes; a key repeated on a line counts once; the empty key is a key.
  EXPECT_EQ(Scan("{\"\xC3\xBC\":1,\"a\":2,\"a\":3,\"\":4}\n")->keys, (Keys{"", "a", "\xC3\xBC"}));
  // Keys seen again after a line with other keys are not new.
  EXPECT_EQ(Scan("{\"a\":1}\n{\"b\":1}\n{\"a\":1}\n{\"c\":1,\"a\":2}\n")->keys,
            (Keys{"a", "b", "c"}));
}

TEST_F(JsonKeysScanTest, ValidLinesOfEveryKindAreSure) {
  const auto sure = Scan(
      "{ \"a\" : \"x\\\"y\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\" , \"b\":[ ] ,\"c\":{ } }\n"
      "[1,2]\n\"text\"\n42\nnull\ntrue\nfalse\n-0.5e+10\n"
      "{\"n\":[-0,0.25E-3,1e99,123456789012345678901234567890],\"t\":[true,false,null]}\n"
      "\t{\"u\":\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xE0\xA0\x80\"}\t\r\n"
      "{}");
  ASSERT_TRUE(sure.has_value());
  EXPECT_EQ(sure->keys, (Keys{"a", "b", "c", "n", "t", "u"}));
  EXPECT_EQ(sure->object_lines, 11);
}

TEST_F(JsonKeysScanTest, TheKindsOfEachKeysValuesAreGathered) {
  const auto sure = Scan(
      "{\"i\":1,\"n\":1.5,\"s\":\"x\",\"b\":true,\"z\":null,\"c\":[1]}\n"
      "{\"i\":-20,\"n\":7,\"s\":\"y\",\"b\":false,\"z\":null,\"c\":{\"i\":\"t\"}}\n"
      "[{\"i\":\"nested\"}]\n"
      "{\"n\":1e5,\"i\":123456789012345678}\n"
      "{\"big\":1234567890123456789,\"neg0\":-0,\"i\":null}");
  ASSERT_TRUE(sure.has_value());
  EXPECT_EQ(sure->keys, (Keys{"b", "c", "i", "n", "s", "z", "big", "neg0"}));
  EXPECT_EQ(sure->kinds,
            (std::vector<std::uint8_t>{kJsonBool, kJsonContainer, kJsonInteger | kJsonNull,
                                       kJsonInteger | kJsonOtherNumber, kJsonString, kJsonNull,
                                       kJsonOtherNumber, kJsonOtherNumber}));
}

TEST_F(JsonKeysScanTest, BlankLinesHaveNoKeysAndNoObjectLineCount) {
  const auto sure = Scan("{\"x\":1}\r\n\r\n  \t\n{\"y\":2}\n");
  ASSERT_TRUE(sure.has_value());
  EXPECT_EQ(sure->keys, (Keys{"x", "y"}));
  EXPECT_EQ(sure->object_lines, std::nullopt);
  EXPECT_EQ(Scan("")->keys, Keys{});
  EXPECT_EQ(Scan("")->object_lines, 0);
  EXPECT_EQ(Scan("{\"a\":1}\n  ")->object_lines, std::nullopt);
  EXPECT_EQ(Scan("{\"a\":1}\r")->keys, Keys{"a"});  // a CR at the very end ends the line
}

TEST_F(JsonKeysScanTest, AnythingInDoubtIsUnsure) {
  for (const std::string& text : std::vector<std::string>{
           "{\"a\":1,}\n",                  // DuckDB's parser takes trailing commas
           "{\"a\":NaN}\n",                 // and NaN
           "{\"a\":1}\n{\"b\":2\n",         // malformed
           "{\"a\":1} x\n",                 // text after the value
           "{\"a\":01}\n",                  // leading zero
           "{\"a\\u0062\":1}\n",            // an escaped key
           "{\"a\":1}\r{\"b\":2}\n",        // a lone CR ends a line for DuckDB
           "\xEF\xBB\xBF{\"a\":1}\n",       // byte order mark
           "{\"a\":\"\xFF\"}\n",            // invalid UTF-8
           "{\"a\":\"\xC0\xAF\"}\n",        // overlong UTF-8
           "{\"a\":\"\xED\xA0\x80\"}\n",    // an encoded surrogate
           "{\"a\":\"tab\there\"}\n",       // a control byte in a string
           "{\"a\":\"\\ud83d\\ude00\"}\n",  // escaped surrogates
           "{\"a\":\"\\u0000\"}\n",         // escaped NUL
           "{\"a\":\"\\x\"}\n",             // an unknown escape
           "{\"a\":1e400}\n",               // may overflow a double
           "{\"a\":1234567890123456789012345678901234567890123}\n",
           std::string("{\"a\":1}\n\0\n", 10),                      // NUL
           std::string(2000, '[') + std::string(2000, ']') + "\n",  // deep
           "{\"a\":\"" + std::string(1'000'001, 'x') + "\"}\n",     // a very long line
       }) {
    EXPECT_FALSE(Scan(text).has_value()) << text.substr(0, 40);
  }
}

TEST_F(JsonKeysScanTest, PartsOfABigFileAgreeWithOneScan) {
  // Big enough to be read on several threads; a new key, a blank line and a long line sit
  // in the later parts.
  std::string text;
  for (int i = 0; i < 320000; ++i) {
    text += "{\"id\":" + std::to_string(i) + ",\"name\":\"n" + std::to_string(i) +
            "\",\"v\":[1.5,{\"deep\":true}]}\n";
    if (i == 150000) text += "{\"late\":\"" + std::string(300000, 'y') + "\",\"id\":1}\n";
    if (i == 170000) text += "\n";
  }
  const fs::path path = Write(text);
  ASSERT_GT(fs::file_size(path), 16U << 20);
  const auto whole = ScanJsonLinesKeys(text);
  ASSERT_TRUE(whole.has_value());
  EXPECT_EQ(whole->keys, (Keys{"id", "name", "v", "late"}));
  EXPECT_EQ(whole->object_lines, std::nullopt);
  for (int parts : {1, 2, 3, 7}) {
    auto scanned = ScanJsonLinesKeysFile(path, parts);
    ASSERT_TRUE(scanned.ok() && scanned->has_value()) << parts;
    EXPECT_EQ((*scanned)->keys, whole->keys) << parts;
    EXPECT_EQ((*scanned)->object_lines, whole->object_lines) << parts;
  }
  EXPECT_EQ(DuckDbKeys(path), whole->keys);
  // One bad line anywhere makes every part's answer unsure.
  text += "{\"x\":1,}\n";
  const fs::path bad = Write(text);
  auto scanned = ScanJsonLinesKeysFile(bad, 2);
  ASSERT_TRUE(scanned.ok());
  EXPECT_FALSE(scanned->has_value());
  EXPECT_FALSE(ScanJsonLinesKeysFile(dir_ / "missing.jsonl", 2).ok());
  // Split however small: a last line without '\n' that spans the split points is still read.
  const fs::path tail = Write("{\"a\":1}\n{\"b\":\"" + std::string(100, 'x') + "\"}");
  for (int parts : {2, 3, 50}) {
    auto split = ScanJsonLinesKeysFile(tail, parts, /*min_part_bytes=*/1);
    ASSERT_TRUE(split.ok() && split->has_value()) << parts;
    EXPECT_EQ((*split)->keys, (Keys{"a", "b"})) << parts;
    EXPECT_EQ((*split)->object_lines, 2) << parts;
  }
}

}  // namespace
}  // namespace sluice::connectors
