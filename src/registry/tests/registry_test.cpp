#include "registry/registry.h"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "registry/pipeline_history.h"

namespace sluice::registry {
namespace {
namespace fs = std::filesystem;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            (std::string("sluice_registry_") + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite");
    Cleanup();
  }
  void TearDown() override { Cleanup(); }
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm"})
      fs::remove(path_.string() + suffix);
  }
  fs::path path_;
};

// A registry another process keeps locked past the busy timeout: a retryable error naming the
// runs going on, not SQLite's bare "database is locked".
TEST_F(RegistryTest, ALockedRegistryNamesWhatHoldsIt) {
  {
    auto reg = Registry::Open(path_);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE(reg->BeginRun("ingest", "transactions", "2026-01-01T00:00:00Z").ok());
  }
  sqlite3* holder = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &holder), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(holder, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr), SQLITE_OK);
  auto locked = Registry::Open(path_, std::chrono::milliseconds(100));
  ASSERT_FALSE(locked.ok());
  EXPECT_TRUE(locked.status().retryable());
  EXPECT_NE(locked.status().message().find("stayed locked by another sluice process (running: "
                                           "ingest of 'transactions' (pid " +
                                           std::to_string(::getpid()) + "))"),
            std::string::npos)
      << locked.status().message();
  sqlite3_exec(holder, "COMMIT", nullptr, nullptr, nullptr);
  sqlite3_close(holder);
  EXPECT_TRUE(Registry::Open(path_, std::chrono::milliseconds(100)).ok());
}

// Two processes opening a brand-new registry at once migrate it once.
TEST_F(RegistryTest, ConcurrentOpensOfANewRegistryMigrateOnce) {
  for (int round = 0; round < 5; ++round) {
    Cleanup();
    const pid_t child = ::fork();
    if (child == 0) _exit(Registry::Open(path_).ok() ? 0 : 1);
    auto reg = Registry::Open(path_);
    int status = 0;
    ::waitpid(child, &status, 0);
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "round " << round;
  }
}

TEST_F(RegistryTest, RecordsRunsNewestFirst) {
  auto reg = Registry::Open(path_);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto id1 = reg->BeginRun("ingest", "transactions", "2026-01-01T00:00:00Z");
  auto id2 = reg->BeginRun("ingest", "users", "2026-01-01T00:00:01Z");
  ASSERT_TRUE(id1.ok() && id2.ok());
  RunRecord done;
  done.id = *id1;
  done.status = "succeeded";
  done.finished_at = "2026-01-01T00:00:02Z";
  done.rows_read = 10;
  done.rows_loaded = 9;
  done.rows_quarantined = 1;
  done.output_version = "abc";
  ASSERT_TRUE(reg->FinishRun(done).ok());

  auto all = reg->Runs();
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2U);
  EXPECT_EQ((*all)[0].target, "users");
  EXPECT_EQ((*all)[0].status, "running");
  EXPECT_EQ((*all)[1].status, "succeeded");
  EXPECT_EQ((*all)[1].rows_quarantined, 1);
  EXPECT_EQ(reg->Runs("transactions")->size(), 1U);

  RunRecord missing;
  missing.id = 999;
  EXPECT_EQ(reg->FinishRun(missing).code(), base::StatusCode::kNotFound);
}

TEST_F(RegistryTest, LineageEdgesAreQueryableBothWays) {
  auto reg = Registry::Open(path_);
  ASSERT_TRUE(reg.ok());
  auto run = reg->BeginRun("ingest", "transactions", "t");
  ASSERT_TRUE(run.ok());
  ASSERT_TRUE(reg->AddLineage({{"file:a.csv@1", "v1", *run}, {"file:b.csv@2", "v1", *run}}).ok());
  ASSERT_TRUE(reg->AddLineage({{"file:a.csv@1", "v1", *run}}).ok());  // idempotent
  EXPECT_EQ(reg->Lineage("v1")->size(), 2U);
  EXPECT_EQ(reg->Lineage("file:a.csv@1")->size(), 1U);
  EXPECT_TRUE(reg->Lineage("nothing")->empty());
}

TEST_F(RegistryTest, RunsOfDeadProcessesBecomeInterruptedOnOpen) {
  {
    auto reg = Registry::Open(path_);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE(reg->BeginRun("ingest", "transactions", "t").ok());
  }
  // Pretend the run belongs to a process that has exited.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE runs SET pid = 2147483646", nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto reg = Registry::Open(path_);
  ASSERT_TRUE(reg.ok());
  EXPECT_EQ((*reg->Runs())[0].status, "interrupted");
}

TEST_F(RegistryTest, RefusesARegistryFromANewerSluice) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto reg = Registry::Open(path_);
  ASSERT_FALSE(reg.ok());
  EXPECT_EQ(reg.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_NE(reg.status().message().find("schema version 99"), std::string::npos);
}

TEST_F(RegistryTest, RejectsAFileThatIsNotADatabase) {
  {
    std::FILE* f = std::fopen(path_.c_str(), "w");
    std::fputs(
        "definitely not sqlite, just text padding it out to more than a hundred bytes so sqlite "
        "reads a header and fails: .................................",
        f);
    std::fclose(f);
  }
  auto reg = Registry::Open(path_);
  ASSERT_FALSE(reg.ok());
  EXPECT_NE(reg.status().message().find(path_.string()), std::string::npos);
}

TEST_F(RegistryTest, AlertsAreRecordedOnceAndCountedWhenRepeated) {
  auto reg = Registry::Open(path_);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  AlertRecord a;
  a.fingerprint = "amount_mean:abc:max";
  a.monitor = "amount_mean";
  a.dataset = "transactions";
  a.version = "abc";
  a.severity = "warning";
  a.message = "mean of amount 120 above max 100";
  a.last_raised_at = "2026-01-01T00:00:00Z";
  auto first = reg->RecordAlert(a);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(*first);
  a.last_raised_at = "2026-01-01T01:00:00Z";
  auto again = reg->RecordAlert(a);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  ASSERT_TRUE(reg->SetAlertDelivery(a.fingerprint, "log").ok());
  a.fingerprint = "other";
  EXPECT_TRUE(*reg->RecordAlert(a));
  auto all = reg->Alerts("amount_mean");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  const AlertRecord& older = (*all)[1];
  EXPECT_EQ(older.occurrences, 2);
  EXPECT_EQ(older.first_raised_at, "2026-01-01T00:00:00Z");
  EXPECT_EQ(older.last_raised_at, "2026-01-01T01:00:00Z");
  EXPECT_EQ(older.delivery, "log");
  EXPECT_EQ(reg->Alerts("nobody")->size(), 0u);
}

// A pipeline run whose recorded pid is alive but is another process now (the pid was reused
// after the run's process died): the run is interrupted and its lock can be taken.
TEST_F(RegistryTest, APipelineRunWhosePidWasReusedIsInterrupted) {
  auto history = PipelineHistory::Open(path_);
  ASSERT_TRUE(history.ok());
  PipelineRun run;
  run.pipeline = "p";
  run.started_at = "2026-01-01T00:00:00Z";
  auto id = history->BeginRun(run, "p");
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  // This process, as recorded: alive and itself, so the run stays running and holds the lock.
  ASSERT_TRUE(history->RecoverInterrupted("2026-01-01T00:01:00Z").ok());
  EXPECT_EQ((*history->Run(*id))->status, "running");
  EXPECT_FALSE(history->BeginRun(run, "p").ok());
  // As if the pid had been another process's at the time.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path_.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "UPDATE pipeline_runs SET process_start = 'another-boot/1'", nullptr,
                         nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(db);
  auto recovered = history->RecoverInterrupted("2026-01-01T00:02:00Z");
  ASSERT_TRUE(recovered.ok());
  EXPECT_EQ(*recovered, (std::vector<std::int64_t>{*id}));
  EXPECT_EQ((*history->Run(*id))->status, "interrupted");
  EXPECT_TRUE(history->BeginRun(run, "p").ok());
}

}  // namespace
}  // namespace sluice::registry
