#include "store/rocksdb_store.h"

#include <gtest/gtest.h>

#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "store/online_store.h"
#include "store/tests/generation_value.h"
#include "store/tests/store_conformance.h"

extern char** environ;

namespace sluice::store {
namespace {

namespace fs = std::filesystem;
using test_support::Backend;
using test_support::BackendParam;
using test_support::StoreConformanceTest;

// A directory removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sluice-store-test.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

StoreOptions TestOptions() {
  StoreOptions o;
  o.follow_interval = std::chrono::milliseconds(0);  // tests move readers with CatchUp()
  // Small memtables, so the concurrency test crosses flushes (and the reader follows them).
  o.write_buffer_bytes = 256 << 10;
  o.block_cache_bytes = 8 << 20;
  return o;
}

class RocksDbBackend : public Backend {
 public:
  base::Result<std::unique_ptr<OnlineStore>> Open(bool read_only) override {
    return OpenRocksDbStore(dir_.path() / "online", read_only, TestOptions());
  }

 private:
  TempDir dir_;
};

INSTANTIATE_TEST_SUITE_P(RocksDb, StoreConformanceTest,
                         ::testing::Values(BackendParam{
                             "rocksdb", [] { return std::make_unique<RocksDbBackend>(); }}),
                         [](const auto& info) { return info.param.name; });

TEST(RocksDbStoreTest, ReadOnlyOpenOfAMissingStoreSaysNothingIsThere) {
  TempDir dir;
  auto store = OpenRocksDbStore(dir.path() / "nothing", /*read_only=*/true, TestOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), base::StatusCode::kNotFound);
  EXPECT_NE(store.status().message().find((dir.path() / "nothing").string()), std::string::npos);
  EXPECT_NE(store.status().message().find("nothing has been materialized"), std::string::npos)
      << store.status().message();
}

TEST(RocksDbStoreTest, ASecondWriterGetsARetryableLockError) {
  TempDir dir;
  auto first = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto listing = [&] {
    std::set<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(dir.path()))
      names.insert(e.path().filename().string());
    return names;
  };
  const auto before = listing();
  auto second = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_FALSE(second.ok());
  EXPECT_TRUE(second.status().retryable());
  EXPECT_NE(second.status().message().find("another process has it open for writing (pid " +
                                           std::to_string(::getpid()) + ";"),
            std::string::npos)
      << second.status().message();
  // The loser touches no file of the store: RocksDB rotated the winner's info log (LOG ->
  // LOG.old.<n>) before failing on its lock, which raced with the winner's own rotation.
  EXPECT_EQ(listing(), before);
  // Once the writer is gone the next one gets in.
  first->reset();
  EXPECT_TRUE(OpenRocksDbStore(dir.path(), false, TestOptions()).ok());
}

TEST(RocksDbStoreTest, ABadPathIsAClearError) {
  TempDir dir;
  const fs::path file = dir.path() / "a-file";
  std::ofstream(file) << "not a directory";
  auto store = OpenRocksDbStore(file / "online", false, TestOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), base::StatusCode::kIoError);
  EXPECT_FALSE(store.status().retryable());  // retrying cannot turn a file into a directory
  EXPECT_NE(store.status().message().find((file / "online").string()), std::string::npos)
      << store.status().message();
}

TEST(RocksDbStoreTest, OpenOnlineStoreResolvesThePathAgainstTheProjectDir) {
  TempDir dir;
  config::OnlineStoreSpec spec;
  spec.name = "local";
  spec.type = config::OnlineStoreType::kRocksdb;
  spec.path = "state/online";
  auto store = OpenOnlineStore(spec, dir.path(), false, TestOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "rocksdb at " + (dir.path() / "state/online").string());
  EXPECT_TRUE(fs::exists(dir.path() / "state/online/CURRENT"));

  spec.path = (dir.path() / "absolute").string();
  store = OpenOnlineStore(spec, "/nonexistent-project", false, TestOptions());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Describe(), "rocksdb at " + spec.path);

  // Errors say which online store they are about.
  spec.path = (dir.path() / "never-written").string();
  store = OpenOnlineStore(spec, dir.path(), /*read_only=*/true, TestOptions());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.status().ToString().find("online store 'local'"), std::string::npos)
      << store.status().ToString();
}

// A reader keeps following when the writer process restarts (new WAL, recovery flush).
TEST(RocksDbStoreTest, AReaderFollowsAcrossWriterRestarts) {
  TempDir dir;
  auto writer = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write("v", {{"k", "1"}}, {}).ok());
  auto reader = OpenRocksDbStore(dir.path(), true, TestOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();

  for (int round = 2; round <= 4; ++round) {
    writer->reset();
    writer = OpenRocksDbStore(dir.path(), false, TestOptions());
    ASSERT_TRUE(writer.ok()) << writer.status().ToString();
    ASSERT_TRUE((*writer)->Write("v", {{"k", std::to_string(round)}}, {}).ok());
    ASSERT_TRUE((*reader)->CatchUp().ok());
    auto got = (*reader)->MultiGet("v", {"k"});
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ((*got)[0], std::optional<std::string>(std::to_string(round))) << round;
  }
}

// A reader that held a view's old content in memory (a RocksDB secondary replaying the WAL)
// must not keep serving it once the writer has moved the newer content into a table file: here
// a writer restart flushes the WAL and writes nothing after, so RocksDB 7.8's secondary kept the
// old entries in its active memtable and served them over the newer ones (meta and entity "a"
// of generation 0; "b" of generation 1 from the table through MultiGet, a mix).
TEST(RocksDbStoreTest, AReaderDoesNotServeWhatTheWriterFlushedFromAStaleCopy) {
  TempDir dir;
  auto writer = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(writer.ok());
  auto meta = [](const std::string& version) {
    ViewMeta m;
    m.source_version = version;
    return m;
  };
  ASSERT_TRUE((*writer)->Replace("v", {{"a", "0"}}, meta("0")).ok());
  auto reader = OpenRocksDbStore(dir.path(), true, TestOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto got = (*reader)->MultiGetWithMeta("v", {"a", "b"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->meta.has_value());
  EXPECT_EQ(got->meta->source_version, "0");

  ASSERT_TRUE((*writer)->Replace("v", {{"a", "1"}, {"b", "1"}}, meta("1")).ok());
  writer->reset();
  writer = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ASSERT_TRUE((*reader)->CatchUp().ok());
  got = (*reader)->MultiGetWithMeta("v", {"a", "b"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->meta.has_value());
  EXPECT_EQ(got->meta->source_version, "1");
  EXPECT_EQ(got->values[0], std::optional<std::string>("1"));
  EXPECT_EQ(got->values[1], std::optional<std::string>("1"));
  auto alone = (*reader)->Meta("v");  // a single Get, not MultiGet
  ASSERT_TRUE(alone.ok()) << alone.status().ToString();
  ASSERT_TRUE(alone->has_value());
  EXPECT_EQ((*alone)->source_version, "1");
}

// The writer's oldest log file: a flush moves everything in it to a table file and deletes it.
std::uint64_t OldestLog(const fs::path& store) {
  std::uint64_t oldest = UINT64_MAX;
  for (const auto& e : fs::directory_iterator(store)) {
    if (e.path().extension() == ".log")
      oldest = std::min<std::uint64_t>(oldest, std::stoull(e.path().stem()));
  }
  return oldest;
}

ViewMeta MetaOf(const std::string& version) {
  ViewMeta m;
  m.source_version = version;
  return m;
}

// After a catch-up, `reader` serves generation `g` of view "v" whole: its meta and entities a
// and b by MultiGet, and its meta by a single Get.
void ExpectServesGeneration(OnlineStore& reader, const std::string& g, const std::string& where) {
  ASSERT_TRUE(reader.CatchUp().ok()) << where;
  auto got = reader.MultiGetWithMeta("v", {"a", "b"});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->meta.has_value()) << where;
  EXPECT_EQ(got->meta->source_version, g) << where;
  EXPECT_EQ(got->values[0], std::optional<std::string>(g)) << where;
  EXPECT_EQ(got->values[1], std::optional<std::string>(g)) << where;
  auto alone = reader.Meta("v");  // a single Get, not MultiGet
  ASSERT_TRUE(alone.ok() && alone->has_value()) << alone.status().ToString();
  EXPECT_EQ((*alone)->source_version, g) << where;
}

// Freshness: a write the writer has not flushed reaches a reader through the writer's log, at
// the reader's next catch-up (the writer does not flush every write for its readers' sake).
TEST(RocksDbStoreTest, AReaderServesAnUnflushedWriteFromTheLog) {
  TempDir dir;
  auto writer = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Replace("v", {{"a", "0"}}, MetaOf("0")).ok());
  auto reader = OpenRocksDbStore(dir.path(), true, TestOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  const std::uint64_t log = OldestLog(dir.path());

  for (int round = 1; round <= 3; ++round) {
    const std::string g = std::to_string(round);
    ASSERT_TRUE((*writer)->Replace("v", {{"a", g}, {"b", g}}, MetaOf(g)).ok());
    ASSERT_EQ(OldestLog(dir.path()), log) << "the write was flushed; this test needs one that is "
                                             "only in the log";
    ExpectServesGeneration(**reader, g, "round " + g);
  }
}

// The writer flushes when its memtable fills (in the background, at the next write) and when it
// restarts (recovering its log into a table file). Each time, a reader that replayed the older
// entries from the log must serve the newer ones from the table, never its own older copy, and
// never a mix of the two. Without the reader's reopen, the restart rounds fail (RocksDB 7.8).
TEST(RocksDbStoreTest, AReaderNeverServesItsOlderCopyAcrossTheWritersFlushes) {
  TempDir dir;
  auto writer = OpenRocksDbStore(dir.path(), false, TestOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Replace("v", {{"a", "0"}}, MetaOf("0")).ok());
  auto reader = OpenRocksDbStore(dir.path(), true, TestOptions());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  // More than a memtable (TestOptions: 256 KiB), so the memtable fills.
  const std::string filler(300 << 10, 'x');
  for (int round = 1; round <= 6; ++round) {
    const std::string where = "round " + std::to_string(round);
    // One generation the reader takes from the writer's log into its memtable...
    const std::string logged = std::to_string(2 * round - 1);
    ASSERT_TRUE((*writer)->Replace("v", {{"a", logged}, {"b", logged}}, MetaOf(logged)).ok());
    ExpectServesGeneration(**reader, logged, where + ", from the log");
    // ...and the next, which reaches it in a table file once the writer flushes.
    const std::string flushed = std::to_string(2 * round);
    const std::uint64_t log = OldestLog(dir.path());
    if (round % 2 == 1) {
      ASSERT_TRUE(
          (*writer)
              ->Replace("v", {{"a", flushed}, {"b", flushed}, {"filler", filler}}, MetaOf(flushed))
              .ok());
      // The full memtable is switched (and flushed in the background) at the next write.
      ASSERT_TRUE((*writer)->Write("other", {{"k", flushed}}, MetaOf(flushed)).ok());
      // Waits for the flush (the ctest timeout bounds a hang); no timing is asserted.
      while (OldestLog(dir.path()) == log)
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    } else {
      ASSERT_TRUE((*writer)->Replace("v", {{"a", flushed}, {"b", flushed}}, MetaOf(flushed)).ok());
      writer->reset();  // the restart flushes, and nothing is written after
      writer = OpenRocksDbStore(dir.path(), false, TestOptions());
      ASSERT_TRUE(writer.ok()) << writer.status().ToString();
      ASSERT_GT(OldestLog(dir.path()), log);
    }
    ExpectServesGeneration(**reader, flushed, where + ", after the flush");
  }
}

// A reader that must replace itself after a writer flush but cannot (here its private directory
// under TMPDIR is gone) fails reads retryably instead of serving its older copy, and recovers at
// a later catch-up once it can open again.
TEST(RocksDbStoreTest, AReaderThatCannotReopenFailsRetryablyInsteadOfServingItsOlderCopy) {
  TempDir dir;
  TempDir tmp;
  const char* const old_tmpdir = std::getenv("TMPDIR");
  const std::string saved = old_tmpdir ? old_tmpdir : "";
  ::setenv("TMPDIR", tmp.path().c_str(), 1);
  auto writer = OpenRocksDbStore(dir.path() / "online", false, TestOptions());
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Replace("v", {{"a", "0"}}, MetaOf("0")).ok());
  auto reader = OpenRocksDbStore(dir.path() / "online", true, TestOptions());
  if (old_tmpdir) {
    ::setenv("TMPDIR", saved.c_str(), 1);
  } else {
    ::unsetenv("TMPDIR");
  }
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto got = (*reader)->MultiGetWithMeta("v", {"a"});
  ASSERT_TRUE(got.ok() && got->meta.has_value());
  ASSERT_EQ(got->meta->source_version, "0");  // from the log, in the reader's memtable

  std::vector<fs::path> private_dirs;
  for (const auto& e : fs::directory_iterator(tmp.path()))
    private_dirs.push_back(e.path());
  ASSERT_EQ(private_dirs.size(), 1u);
  fs::remove_all(private_dirs[0]);

  ASSERT_TRUE((*writer)->Replace("v", {{"a", "1"}}, MetaOf("1")).ok());
  writer->reset();  // the restart flushes
  writer = OpenRocksDbStore(dir.path() / "online", false, TestOptions());
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();

  const auto caught = (*reader)->CatchUp();
  EXPECT_FALSE(caught.ok());
  got = (*reader)->MultiGetWithMeta("v", {"a"});
  ASSERT_FALSE(got.ok()) << "served generation "
                         << (got->meta ? got->meta->source_version : "(no meta)");
  EXPECT_EQ(got.status().code(), base::StatusCode::kUnavailable) << got.status().ToString();
  EXPECT_TRUE(got.status().retryable());
  EXPECT_NE(got.status().message().find(private_dirs[0].string()), std::string::npos)
      << got.status().message();
  EXPECT_FALSE((*reader)->Meta("v").ok());

  fs::create_directory(private_dirs[0]);
  ASSERT_TRUE((*reader)->CatchUp().ok());
  got = (*reader)->MultiGetWithMeta("v", {"a"});
  ASSERT_TRUE(got.ok() && got->meta.has_value()) << got.status().ToString();
  EXPECT_EQ(got->meta->source_version, "1");
  EXPECT_EQ(got->values[0], std::optional<std::string>("1"));
}

// Serving reads while `sluice materialize` writes from another process: the reader follows on
// its own background thread (no CatchUp calls here) and never sees half a batch.
TEST(RocksDbStoreTest, AReaderFollowsAWriterInAnotherProcess) {
  TempDir dir;
  constexpr int kGenerations = 400;
  constexpr int kEntities = 50;
  int to_child[2], from_child[2];
  ASSERT_EQ(::pipe(to_child), 0);
  ASSERT_EQ(::pipe(from_child), 0);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
  posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
  posix_spawn_file_actions_addclose(&actions, to_child[1]);
  posix_spawn_file_actions_addclose(&actions, from_child[0]);
  const std::string path = dir.path().string();
  const std::string gens = std::to_string(kGenerations);
  const std::string ents = std::to_string(kEntities);
  char* const args[] = {const_cast<char*>(SLUICE_STORE_TEST_WRITER),
                        const_cast<char*>(path.c_str()), const_cast<char*>(gens.c_str()),
                        const_cast<char*>(ents.c_str()), nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, SLUICE_STORE_TEST_WRITER, &actions, nullptr, args, environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  ::close(to_child[0]);
  ::close(from_child[1]);
  FILE* child_out = ::fdopen(from_child[0], "r");
  char line[64] = {};
  ASSERT_NE(std::fgets(line, sizeof line, child_out), nullptr) << "the writer died before ready";
  EXPECT_STREQ(line, "ready\n");

  StoreOptions options = TestOptions();
  options.follow_interval = std::chrono::milliseconds(1);
  auto reader = OpenRocksDbStore(dir.path(), /*read_only=*/true, options);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_EQ(::write(to_child[1], "go\n", 3), 3);  // the writer proceeds while we read
  ::close(to_child[1]);

  const auto entities = test_support::GenerationEntities(kEntities);
  std::int64_t last = -1;
  std::string problem;
  int reads = 0;
  bool exited = false;
  int wstatus = 0;
  // Read until the follower has seen the final generation (the writer's exit alone does not
  // end the loop: the follower may still be behind). The ctest timeout bounds a hang.
  while (problem.empty() && last != kGenerations - 1) {
    if (!exited && ::waitpid(pid, &wstatus, WNOHANG) == pid) {
      exited = true;
      if (!WIFEXITED(wstatus) || WEXITSTATUS(wstatus) != 0) {
        problem = "the writer process failed";
        break;
      }
    }
    auto got = (*reader)->MultiGet("gen", entities);
    if (!got.ok()) {
      problem = got.status().ToString();
      break;
    }
    std::int64_t gen = -1;
    for (int i = 0; i < kEntities && problem.empty(); ++i) {
      const std::int64_t g =
          (*got)[i] ? test_support::ParseGenerationValue(*(*got)[i], entities[i]) : -1;
      if (g < 0) problem = "entity " + std::to_string(i) + " missing or damaged";
      if (gen >= 0 && g != gen) {
        problem =
            "one MultiGet saw generations " + std::to_string(gen) + " and " + std::to_string(g);
      }
      gen = g;
    }
    if (problem.empty() && gen < last) problem = "went back from " + std::to_string(last);
    last = gen;
    ++reads;
  }
  if (!exited) ::waitpid(pid, &wstatus, 0);
  std::fclose(child_out);
  EXPECT_EQ(problem, "");
  EXPECT_TRUE(WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0);
  auto meta = (*reader)->Meta("gen");
  ASSERT_TRUE(meta.ok() && meta->has_value());
  EXPECT_EQ((*meta)->source_version, std::to_string(kGenerations - 1));
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace sluice::store
