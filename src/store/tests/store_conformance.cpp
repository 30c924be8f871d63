#include "store/tests/store_conformance.h"

#include <unistd.h>

#include <atomic>
#include <thread>

namespace sluice::store::test_support {
namespace {

using Values = std::vector<std::pair<std::string, std::string>>;
using Got = std::vector<std::optional<std::string>>;

ViewMeta SampleMeta(const std::string& version) {
  ViewMeta m;
  m.source_version = version;
  m.definition_hash = std::string("sha256:\0\xff", 9);
  m.newest_event_micros = -1234567890123;
  m.entities = 3;
  m.materialized_at = "2024-05-01T12:00:00Z";
  m.encoding_version = 7;
  return m;
}

std::string Binary(std::initializer_list<int> bytes) {
  std::string s;
  for (int b : bytes)
    s.push_back(static_cast<char>(b));
  return s;
}

}  // namespace

void StoreConformanceTest::SetUp() {
  backend_ = GetParam().make();
  ASSERT_NE(backend_, nullptr);
}

std::string StoreConformanceTest::View(const std::string& base) const {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string test = info->name();
  for (char& c : test) {
    if (c == '/') c = '.';
  }
  return base + "-" + test + "-" + std::to_string(::getpid());
}

std::unique_ptr<OnlineStore> StoreConformanceTest::OpenOrDie(bool read_only) {
  auto store = backend_->Open(read_only);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  return store.ok() ? std::move(*store) : nullptr;
}

TEST_P(StoreConformanceTest, RoundTripsBinaryKeysAndValues) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("bin");
  const std::string large(3 << 20, '\0');  // 3 MiB of NUL bytes
  std::string varied(100000, 'x');
  for (std::size_t i = 0; i < varied.size(); ++i)
    varied[i] = static_cast<char>(i * 7919 % 256);
  const Values values = {
      {Binary({0}), Binary({0, 0, 0})},
      {Binary({'a', 0, 'b'}), "nul inside the key"},
      {Binary({0xff, 0xfe, '/', '/', 0}), Binary({0xff})},
      {"", "empty entity"},
      {"slash/in/entity", ""},  // empty value is a value, not a missing one
      {"large", large},
      {"varied", varied},
  };
  ASSERT_TRUE(store->Write(view, values, SampleMeta("v1")).ok());

  std::vector<std::string> ask;
  for (const auto& [e, v] : values) {
    ask.push_back(e);
    ask.push_back(e + "-missing");
  }
  auto got = store->MultiGet(view, ask);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), ask.size());
  for (std::size_t i = 0; i < values.size(); ++i) {
    ASSERT_TRUE((*got)[2 * i].has_value()) << "entity #" << i;
    EXPECT_EQ(*(*got)[2 * i], values[i].second) << "entity #" << i;
    EXPECT_FALSE((*got)[2 * i + 1].has_value()) << "entity #" << i << " + -missing";
  }
}

TEST_P(StoreConformanceTest, MultiGetWithMetaReadsValuesAndMeta) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("withmeta");
  auto none = store->MultiGetWithMeta(view, {"a"});
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_FALSE(none->meta.has_value());
  ASSERT_EQ(none->values.size(), 1u);
  EXPECT_FALSE(none->values[0].has_value());
  ViewMeta meta;
  meta.definition_hash = "def-1";
  meta.entities = 2;
  ASSERT_TRUE(store->Write(view, {{"a", "1"}, {std::string("b\0", 2), "2"}}, meta).ok());
  auto got = store->MultiGetWithMeta(view, {std::string("b\0", 2), "zz", "a"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->meta.has_value());
  EXPECT_EQ(*got->meta, meta);
  ASSERT_EQ(got->values.size(), 3u);
  EXPECT_EQ(got->values[0], std::optional<std::string>("2"));
  EXPECT_FALSE(got->values[1].has_value());
  EXPECT_EQ(got->values[2], std::optional<std::string>("1"));
  auto empty = store->MultiGetWithMeta(view, {});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->values.empty());
  EXPECT_EQ(empty->meta, std::optional<ViewMeta>(meta));
  EXPECT_FALSE(store->MultiGetWithMeta("bad/view", {"a"}).ok());
  // Parts, with the meta of the same write.
  ViewMeta meta2 = meta;
  meta2.definition_hash = "def-2";
  ASSERT_TRUE(store
                  ->WriteState(view, {{"a", "3"}}, {{"a", std::string("p\0", 2), "part"}}, meta2,
                               {}, /*replace=*/false)
                  .ok());
  auto parts = store->MultiGetPartsWithMeta(view, {{"a", std::string("p\0", 2)}, {"a", "q"}});
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->meta, std::optional<ViewMeta>(meta2));
  ASSERT_EQ(parts->values.size(), 2u);
  EXPECT_EQ(parts->values[0], std::optional<std::string>("part"));
  EXPECT_FALSE(parts->values[1].has_value());
  auto no_parts = store->MultiGetPartsWithMeta(View("withmeta_none"), {{"a", "p"}});
  ASSERT_TRUE(no_parts.ok());
  EXPECT_FALSE(no_parts->meta.has_value());
  EXPECT_FALSE(no_parts->values[0].has_value());
  EXPECT_FALSE(store->MultiGetPartsWithMeta("bad/view", {{"a", "p"}}).ok());
}

TEST_P(StoreConformanceTest, MultiGetOfNothingAndOfUnknownViews) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  auto none = store->MultiGet(View("empty"), {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  auto unknown = store->MultiGet(View("never-written"), {"a", "b", ""});
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(*unknown, Got(3));
  auto meta = store->Meta(View("never-written"));
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  EXPECT_FALSE(meta->has_value());
}

TEST_P(StoreConformanceTest, MetaRoundTripsAndTheLastWriteWins) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("meta");
  ASSERT_TRUE(store->Write(view, {{"k", "1"}}, SampleMeta("v1")).ok());
  auto meta = store->Meta(view);
  ASSERT_TRUE(meta.ok()) << meta.status().ToString();
  ASSERT_TRUE(meta->has_value());
  EXPECT_EQ(**meta, SampleMeta("v1"));

  // A meta-only write (no values) still moves the watermark.
  ViewMeta newer = SampleMeta("v2");
  newer.newest_event_micros = 42;
  newer.entities = 0;
  ASSERT_TRUE(store->Write(view, {}, newer).ok());
  meta = store->Meta(view);
  ASSERT_TRUE(meta.ok() && meta->has_value());
  EXPECT_EQ(**meta, newer);
  auto got = store->MultiGet(view, {"k"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::optional<std::string>("1"));
}

TEST_P(StoreConformanceTest, OverwritesAndDuplicatesInABatchKeepTheLastValue) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("dup");
  ASSERT_TRUE(store->Write(view, {{"a", "1"}, {"b", "1"}}, SampleMeta("v1")).ok());
  ASSERT_TRUE(store->Write(view, {{"a", "2"}, {"a", "3"}}, SampleMeta("v2")).ok());
  auto got = store->MultiGet(view, {"a", "b"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{"3", "1"}));
}

TEST_P(StoreConformanceTest, ViewsWithSharedPrefixesDoNotCollide) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  // "a" + entity "b/x" must not meet "a.b"-style neighbours, and a view called "m" (the meta
  // namespace's letter) must not meet meta keys.
  const std::string a = View("a");
  const std::string ab = a + "b";
  const std::string m = View("m");
  ASSERT_TRUE(store->Write(a, {{"b/x", "in a"}, {"", "a empty"}}, SampleMeta("a")).ok());
  ASSERT_TRUE(store->Write(ab, {{"/x", "in ab"}, {"", "ab empty"}}, SampleMeta("ab")).ok());
  ASSERT_TRUE(store->Write(m, {{a, "entity named like a view"}}, SampleMeta("m")).ok());

  auto got_a = store->MultiGet(a, {"b/x", "", "/x"});
  auto got_ab = store->MultiGet(ab, {"/x", "", "b/x"});
  ASSERT_TRUE(got_a.ok() && got_ab.ok());
  EXPECT_EQ(*got_a, (Got{"in a", "a empty", std::nullopt}));
  EXPECT_EQ(*got_ab, (Got{"in ab", "ab empty", std::nullopt}));
  auto meta_a = store->Meta(a);
  ASSERT_TRUE(meta_a.ok() && meta_a->has_value());
  EXPECT_EQ((*meta_a)->source_version, "a");

  // Deleting "a" leaves its prefix-sharing neighbour alone.
  ASSERT_TRUE(store->DeleteView(a).ok());
  got_ab = store->MultiGet(ab, {"/x", ""});
  ASSERT_TRUE(got_ab.ok());
  EXPECT_EQ(*got_ab, (Got{"in ab", "ab empty"}));
  auto meta_ab = store->Meta(ab);
  ASSERT_TRUE(meta_ab.ok() && meta_ab->has_value());
  EXPECT_EQ((*meta_ab)->source_version, "ab");
}

TEST_P(StoreConformanceTest, DeleteViewRemovesValuesAndMeta) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("del");
  Values many;
  for (int i = 0; i < 2500; ++i)
    many.emplace_back("e" + std::to_string(i), std::to_string(i));
  ASSERT_TRUE(store->Write(view, many, SampleMeta("v1")).ok());
  ASSERT_TRUE(store->DeleteView(view).ok());

  std::vector<std::string> ask;
  for (const auto& [e, v] : many)
    ask.push_back(e);
  auto got = store->MultiGet(view, ask);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, Got(ask.size()));
  auto meta = store->Meta(view);
  ASSERT_TRUE(meta.ok());
  EXPECT_FALSE(meta->has_value());

  // Deleting again (nothing there) is fine, and the view can be materialized afresh.
  EXPECT_TRUE(store->DeleteView(view).ok());
  ASSERT_TRUE(store->Write(view, {{"e1", "again"}}, SampleMeta("v2")).ok());
  got = store->MultiGet(view, {"e1", "e2"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{"again", std::nullopt}));
}

TEST_P(StoreConformanceTest, BadViewNamesAreRefusedByName) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  for (const std::string& bad : {std::string(), std::string("a/b"), std::string("a b"),
                                 std::string("a*"), std::string(300, 'v')}) {
    auto w = store->Write(bad, {{"k", "v"}}, {});
    EXPECT_EQ(w.code(), base::StatusCode::kInvalidArgument) << "'" << bad << "'";
    EXPECT_NE(w.message().find("view name"), std::string::npos) << w.message();
    EXPECT_EQ(store->MultiGet(bad, {"k"}).status().code(), base::StatusCode::kInvalidArgument);
    EXPECT_EQ(store->Meta(bad).status().code(), base::StatusCode::kInvalidArgument);
    EXPECT_EQ(store->DeleteView(bad).code(), base::StatusCode::kInvalidArgument);
  }
}

TEST_P(StoreConformanceTest, ReadOnlyHandlesReadButRefuseWrites) {
  auto writer = OpenOrDie(false);
  ASSERT_NE(writer, nullptr);
  const std::string view = View("ro");
  ASSERT_TRUE(writer->Write(view, {{"k", "v"}}, SampleMeta("v1")).ok());

  auto reader = OpenOrDie(true);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->CatchUp().ok());
  auto got = reader->MultiGet(view, {"k"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0], std::optional<std::string>("v"));

  auto w = reader->Write(view, {{"k", "x"}}, {});
  EXPECT_EQ(w.code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(w.message().find("read-only"), std::string::npos) << w.message();
  EXPECT_EQ(reader->DeleteView(view).code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->Replace(view, {}, {}).code(), base::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(reader->Describe().empty());
}

// A reader running beside a writer never sees half a batch: every batch writes all entities
// with one generation number (and the meta naming it), so every MultiGet must find a single
// generation, never older than one the reader saw before nor than the meta it just read.
TEST_P(StoreConformanceTest, ReplaceRemovesEntitiesNotInTheBatch) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("replace"), other = View("replace_other");
  ViewMeta first;
  first.source_version = "v1";
  ASSERT_TRUE(store->Write(view, {{"a", "1"}, {"b", "1"}, {"c", "1"}}, first).ok());
  ASSERT_TRUE(store->Write(other, {{"a", "other"}}, first).ok());
  ViewMeta second;
  second.source_version = "v2";
  auto replaced = store->Replace(view, {{"b", "2"}, {"d", "2"}}, second);
  ASSERT_TRUE(replaced.ok()) << replaced.ToString();
  auto got = store->MultiGet(view, {"a", "b", "c", "d"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0], std::nullopt);
  EXPECT_EQ((*got)[1], std::optional<std::string>("2"));
  EXPECT_EQ((*got)[2], std::nullopt);
  EXPECT_EQ((*got)[3], std::optional<std::string>("2"));
  auto meta = store->Meta(view);
  ASSERT_TRUE(meta.ok() && meta->has_value());
  EXPECT_EQ((*meta)->source_version, "v2");
  // Another view, even one whose name starts the same, keeps its values.
  auto untouched = store->MultiGet(other, {"a"});
  ASSERT_TRUE(untouched.ok());
  EXPECT_EQ((*untouched)[0], std::optional<std::string>("other"));
  // Replacing with nothing empties the view but keeps its meta.
  ASSERT_TRUE(store->Replace(view, {}, second).ok());
  got = store->MultiGet(view, {"b", "d"});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)[0], std::nullopt);
  EXPECT_EQ((*got)[1], std::nullopt);
  EXPECT_TRUE(store->Meta(view)->has_value());
}

// A view switched to a rebuilt generation: the new values, meta and side entries (the stream's
// cursors) together, and the old generation's other entities gone.
TEST_P(StoreConformanceTest, ReplacingWithSideEntriesWritesThemWithTheValues) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("replace_side");
  ViewMeta old_meta;
  old_meta.definition_hash = "old";
  ASSERT_TRUE(
      store->WriteWithSide(view, {{"a", "1"}, {"b", "1"}}, old_meta, {{"cursor", "old"}}).ok());
  ViewMeta new_meta;
  new_meta.definition_hash = "new";
  auto replaced =
      store->WriteState(view, {{"b", "2"}}, {}, new_meta, {{"cursor", "new"}}, /*replace=*/true);
  ASSERT_TRUE(replaced.ok()) << replaced.ToString();
  auto got = store->MultiGet(view, {"a", "b"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ((*got)[0], std::nullopt);
  EXPECT_EQ((*got)[1], std::optional<std::string>("2"));
  EXPECT_EQ((*store->Meta(view))->definition_hash, "new");
  EXPECT_EQ(*store->ReadSide(view, "cursor"), std::optional<std::string>("new"));
  EXPECT_EQ(store->WriteState(view, {}, {}, new_meta, {{"bad/name", "x"}}, /*replace=*/true).code(),
            base::StatusCode::kInvalidArgument);
}

TEST_P(StoreConformanceTest, ConcurrentReadersNeverSeeHalfABatch) {
  auto writer = OpenOrDie(false);
  ASSERT_NE(writer, nullptr);
  const std::string view = View("atomic");
  constexpr int kEntities = 64;
  constexpr int kGenerations = 300;
  const std::vector<std::string> entities = GenerationEntities(kEntities);
  auto write_generation = [&](std::int64_t g) {
    Values batch;
    for (const auto& e : entities)
      batch.emplace_back(e, GenerationValue(g, e));
    ViewMeta meta;
    meta.source_version = std::to_string(g);
    return writer->Write(view, batch, meta);
  };
  ASSERT_TRUE(write_generation(0).ok());

  auto follower = OpenOrDie(true);
  ASSERT_NE(follower, nullptr);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0};

  // Checks one handle until the writer is done; returns the first problem, or "".
  auto check = [&](OnlineStore* store) -> std::string {
    std::int64_t last = -1;
    while (true) {
      const bool writer_done = done.load();
      if (auto s = store->CatchUp(); !s.ok()) return "CatchUp: " + s.ToString();
      auto meta = store->Meta(view);
      if (!meta.ok()) return "Meta: " + meta.status().ToString();
      if (!meta->has_value()) return "meta missing";
      const std::int64_t meta_gen = std::stoll((*meta)->source_version);
      auto got = store->MultiGet(view, entities);
      if (!got.ok()) return "MultiGet: " + got.status().ToString();
      std::int64_t gen = -1;
      for (int i = 0; i < kEntities; ++i) {
        if (!(*got)[i]) return "entity " + std::to_string(i) + " missing";
        const std::int64_t g = ParseGenerationValue(*(*got)[i], entities[i]);
        if (g < 0) return "entity " + std::to_string(i) + " has a damaged value";
        if (gen >= 0 && g != gen) {
          return "one MultiGet saw generations " + std::to_string(gen) + " and " +
                 std::to_string(g);
        }
        gen = g;
      }
      if (gen < last) return "generation went back from " + std::to_string(last);
      if (gen < meta_gen) return "values older than the meta read before them";
      // Values and meta read together come from one write: the meta names their generation.
      auto with_meta = store->MultiGetWithMeta(view, entities);
      if (!with_meta.ok()) return "MultiGetWithMeta: " + with_meta.status().ToString();
      if (!with_meta->meta) return "MultiGetWithMeta: meta missing";
      if (with_meta->values.size() != entities.size()) return "MultiGetWithMeta: wrong count";
      for (int i = 0; i < kEntities; ++i) {
        const auto& v = with_meta->values[i];
        const std::int64_t g = v ? ParseGenerationValue(*v, entities[i]) : -1;
        if (std::to_string(g) != with_meta->meta->source_version) {
          return "MultiGetWithMeta: entity " + std::to_string(i) + " of generation " +
                 std::to_string(g) + " beside the meta of " + with_meta->meta->source_version;
        }
      }
      last = gen;
      reads.fetch_add(1);
      if (writer_done) {
        if (gen != kGenerations - 1) return "final generation " + std::to_string(gen);
        return "";
      }
    }
  };

  std::string same_handle_problem, follower_problem;
  std::thread same_handle([&] { same_handle_problem = check(writer.get()); });
  std::thread following([&] { follower_problem = check(follower.get()); });
  base::Status written;
  for (int g = 1; g < kGenerations && written.ok(); ++g)
    written = write_generation(g);
  done.store(true);
  same_handle.join();
  following.join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(same_handle_problem, "");
  EXPECT_EQ(follower_problem, "");
  EXPECT_GT(reads.load(), 0);
}

// A reader sees a Replace whole: never an entity the new content lacks beside the new meta
// (on Redis the old keys go in the same MULTI/EXEC as the new content).
TEST_P(StoreConformanceTest, ReadersSeeAReplaceWhole) {
  auto writer = OpenOrDie(false);
  ASSERT_NE(writer, nullptr);
  const std::string view = View("replacewhole");
  constexpr int kEntities = 16;
  constexpr int kGenerations = 60;
  const std::vector<std::string> entities = GenerationEntities(kEntities);
  // Generation g holds the entities of g's parity, and the first two always.
  auto holds = [](std::int64_t g, int i) { return i < 2 || i % 2 == g % 2; };
  auto replace = [&](std::int64_t g) {
    Values batch;
    for (int i = 0; i < kEntities; ++i) {
      if (holds(g, i)) batch.emplace_back(entities[i], GenerationValue(g, entities[i]));
    }
    ViewMeta meta;
    meta.source_version = std::to_string(g);
    return writer->Replace(view, batch, meta);
  };
  ASSERT_TRUE(replace(0).ok());
  auto reader = OpenOrDie(true);
  ASSERT_NE(reader, nullptr);
  std::atomic<bool> done{false};
  std::string problem;
  std::thread reading([&] {
    while (problem.empty()) {
      const bool writer_done = done.load();
      if (auto s = reader->CatchUp(); !s.ok()) problem = "CatchUp: " + s.ToString();
      auto got = reader->MultiGetWithMeta(view, entities);
      if (!got.ok()) {
        problem = got.status().ToString();
        break;
      }
      if (!got->meta) {
        problem = "meta missing";
        break;
      }
      const std::int64_t g = std::stoll(got->meta->source_version);
      for (int i = 0; i < kEntities && problem.empty(); ++i) {
        const auto& v = got->values[i];
        if (v.has_value() != holds(g, i)) {
          problem = "generation " + std::to_string(g) + ": entity " + std::to_string(i) +
                    (v ? " present" : " missing");
        } else if (v && ParseGenerationValue(*v, entities[i]) != g) {
          problem = "generation " + std::to_string(g) + ": entity " + std::to_string(i) +
                    " holds another generation's value";
        }
      }
      if (writer_done) break;
    }
  });
  base::Status written;
  for (int g = 1; g < kGenerations && written.ok(); ++g)
    written = replace(g);
  done.store(true);
  reading.join();
  ASSERT_TRUE(written.ok()) << written.ToString();
  EXPECT_EQ(problem, "");
}

// A conditional write happens only when the side entries hold what it expects; otherwise
// nothing of it is stored (the fencing of a stream worker that lost its partitions).
TEST_P(StoreConformanceTest, ConditionalWritesFenceOnSideEntries) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("fence");
  const std::string c1 = Binary({'c', 0, '1'});
  // Nothing stored yet: expecting no cursor holds.
  ASSERT_TRUE(store
                  ->WriteStateIf(view, {{"k", "v1"}}, {{"k", "p", "part1"}}, SampleMeta("v1"),
                                 {{"cur.0", c1}, {"cur.1", "b1"}},
                                 {{"cur.0", std::nullopt}, {"cur.1", std::nullopt}})
                  .ok());
  EXPECT_EQ(*store->ReadSide(view, "cur.0"), std::optional<std::string>(c1));
  // A writer still expecting no cursor (it read before the first write) is refused.
  base::Status stale =
      store->WriteStateIf(view, {{"k", "stale"}}, {{"k", "p", "stale"}}, SampleMeta("stale"),
                          {{"cur.0", "c-stale"}}, {{"cur.0", std::nullopt}});
  EXPECT_EQ(stale.code(), base::StatusCode::kFailedPrecondition) << stale.ToString();
  EXPECT_NE(stale.message().find("cur.0"), std::string::npos) << stale.ToString();
  // One of two expectations wrong is enough.
  stale = store->WriteStateIf(view, {{"k", "stale"}}, {}, SampleMeta("stale"),
                              {{"cur.1", "b-stale"}}, {{"cur.0", c1}, {"cur.1", "b0"}});
  EXPECT_EQ(stale.code(), base::StatusCode::kFailedPrecondition) << stale.ToString();
  // Nothing of the refused writes is stored.
  EXPECT_EQ((*store->MultiGet(view, {"k"}))[0], std::optional<std::string>("v1"));
  EXPECT_EQ((*store->MultiGetParts(view, {{"k", "p"}}))[0], std::optional<std::string>("part1"));
  EXPECT_EQ((*store->Meta(view))->source_version, "v1");
  EXPECT_EQ(*store->ReadSide(view, "cur.0"), std::optional<std::string>(c1));
  EXPECT_EQ(*store->ReadSide(view, "cur.1"), std::optional<std::string>("b1"));
  // The writer that wrote last goes on.
  ASSERT_TRUE(store
                  ->WriteStateIf(view, {{"k", "v2"}}, {{"k", "p", std::nullopt}}, SampleMeta("v2"),
                                 {{"cur.0", "c2"}}, {{"cur.0", c1}, {"cur.1", "b1"}})
                  .ok());
  EXPECT_EQ((*store->MultiGet(view, {"k"}))[0], std::optional<std::string>("v2"));
  EXPECT_EQ((*store->MultiGetParts(view, {{"k", "p"}}))[0], std::nullopt);
  EXPECT_EQ(*store->ReadSide(view, "cur.0"), std::optional<std::string>("c2"));
  // A read-only handle refuses, conditions or not.
  auto reader = OpenOrDie(true);
  ASSERT_NE(reader, nullptr);
  EXPECT_FALSE(reader->WriteStateIf(view, {{"k", "r"}}, {}, SampleMeta("r"), {}, {}).ok());
}

// Side entries (a stream's offsets) go in with a view's values, per view, and read back as
// written; bad names are refused before anything is written.
TEST_P(StoreConformanceTest, SideEntriesTravelWithTheirViewsWrite) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("side");
  const std::string other = View("side2");
  auto none = store->ReadSide(view, "offsets");
  ASSERT_TRUE(none.ok()) << none.status().ToString();
  EXPECT_EQ(*none, std::nullopt);
  const std::string bytes = Binary({0, 1, 255, '/', 0});
  ASSERT_TRUE(store
                  ->WriteWithSide(view, {{"k", "v1"}}, SampleMeta("v1"),
                                  {{"offsets", bytes}, {"stream.cursor", "c1"}})
                  .ok());
  EXPECT_EQ(*store->ReadSide(view, "offsets"), std::optional<std::string>(bytes));
  EXPECT_EQ(*store->ReadSide(view, "stream.cursor"), std::optional<std::string>("c1"));
  EXPECT_EQ(*store->ReadSide(other, "offsets"), std::nullopt);
  EXPECT_EQ((*store->MultiGet(view, {"k"}))[0], std::optional<std::string>("v1"));
  // A later write replaces the entry it names and keeps the others.
  ASSERT_TRUE(store->WriteWithSide(view, {}, SampleMeta("v2"), {{"offsets", "o2"}}).ok());
  EXPECT_EQ(*store->ReadSide(view, "offsets"), std::optional<std::string>("o2"));
  EXPECT_EQ(*store->ReadSide(view, "stream.cursor"), std::optional<std::string>("c1"));
  EXPECT_EQ((*store->Meta(view))->source_version, "v2");

  for (const std::string& bad : {std::string(), std::string("a/b"), std::string(300, 'n')}) {
    auto w = store->WriteWithSide(view, {{"k", "bad"}}, SampleMeta("v3"), {{bad, "x"}});
    EXPECT_EQ(w.code(), base::StatusCode::kInvalidArgument) << "'" << bad << "'";
    EXPECT_EQ(store->ReadSide(view, bad).status().code(), base::StatusCode::kInvalidArgument);
  }
  // The refused writes left the view as it was.
  EXPECT_EQ((*store->MultiGet(view, {"k"}))[0], std::optional<std::string>("v1"));
  EXPECT_EQ((*store->Meta(view))->source_version, "v2");

  auto reader = OpenOrDie(true);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->CatchUp().ok());
  EXPECT_EQ(*reader->ReadSide(view, "offsets"), std::optional<std::string>("o2"));
  EXPECT_EQ(reader->WriteWithSide(view, {}, {}, {{"offsets", "x"}}).code(),
            base::StatusCode::kFailedPrecondition);
}

}  // namespace sluice::store::test_support

namespace sluice::store::test_support {
namespace {

// Entity parts: any bytes in entity and part name, put and delete in the same atomic write as
// the values and meta, never colliding with values or another entity's parts (an entity that
// is a prefix of another, a part name that looks like the rest of a longer entity), removed by
// Replace when not in its batch and by DeleteView.
TEST_P(StoreConformanceTest, PartsTravelWithValuesAndGoWithTheirView) {
  auto store = OpenOrDie(false);
  ASSERT_NE(store, nullptr);
  const std::string view = View("parts");
  const std::string other = View("parts2");
  const std::vector<PartWrite> parts = {
      {"e", "g" + Binary({0, 0, 0, 0, 0, 0, 0, 1}), "group of e"},
      {"e", "c" + Binary({0, 0, 0, 0, 0, 0, 0, 1}), "chunk of e"},
      {"ex", "c", "part c of ex"},
      {"e", "xc", "part xc of e"},  // ("e", "xc") and ("ex", "c") must not meet
      {Binary({0, 0xff}), Binary({0}), Binary({0xff, 0})},
      {"", "", "empty entity, empty part name"},
  };
  ASSERT_TRUE(store->WriteState(view, {{"e", "head"}}, parts, SampleMeta("v1"), {}, false).ok());
  ASSERT_TRUE(store
                  ->WriteState(other, {{"e", "other head"}}, {{"e", "xc", "other part"}},
                               SampleMeta("o"), {}, false)
                  .ok());
  std::vector<PartKey> keys;
  for (const auto& p : parts)
    keys.push_back({p.entity, p.part});
  keys.push_back({"e", "missing"});
  auto got = store->MultiGetParts(view, keys);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), keys.size());
  for (std::size_t i = 0; i < parts.size(); ++i)
    EXPECT_EQ((*got)[i], parts[i].value) << i;
  EXPECT_EQ((*got)[parts.size()], std::nullopt);
  // Parts are not values.
  auto heads = store->MultiGet(view, {"e", "ex"});
  ASSERT_TRUE(heads.ok());
  EXPECT_EQ(*heads, (Got{"head", std::nullopt}));

  // A delete and a put in one write.
  ASSERT_TRUE(store
                  ->WriteState(view, {{"e", "head 2"}},
                               {{"e", "xc", std::nullopt}, {"ex", "c", "part c of ex, 2"}},
                               SampleMeta("v2"), {}, false)
                  .ok());
  got = store->MultiGetParts(view, {{"e", "xc"}, {"ex", "c"}, {"e", parts[0].part}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{std::nullopt, "part c of ex, 2", "group of e"}));

  // Replace keeps only the parts in its batch; DeleteView removes the rest, and leaves the
  // other view's.
  ASSERT_TRUE(
      store->WriteState(view, {{"e", "head 3"}}, {{"e", "c1", "kept"}}, SampleMeta("v3"), {}, true)
          .ok());
  got = store->MultiGetParts(view, {{"e", "c1"}, {"ex", "c"}, {"e", parts[0].part}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{"kept", std::nullopt, std::nullopt}));
  ASSERT_TRUE(store->DeleteView(view).ok());
  got = store->MultiGetParts(view, {{"e", "c1"}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{std::nullopt}));
  got = store->MultiGetParts(other, {{"e", "xc"}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{"other part"}));
  ASSERT_TRUE(store->DeleteView(other).ok());

  // A read-only handle reads parts and refuses to write them.
  ASSERT_TRUE(
      store->WriteState(view, {{"e", "h"}}, {{"e", "p", "v"}}, SampleMeta("v4"), {}, false).ok());
  store.reset();
  auto reader = OpenOrDie(true);
  ASSERT_NE(reader, nullptr);
  ASSERT_TRUE(reader->CatchUp().ok());
  got = reader->MultiGetParts(view, {{"e", "p"}});
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(*got, (Got{"v"}));
  EXPECT_EQ(reader->WriteState(view, {}, {{"e", "p", "w"}}, SampleMeta("v5"), {}, false).code(),
            base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reader->MultiGetParts("bad/view", {{"e", "p"}}).status().code(),
            base::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace sluice::store::test_support
