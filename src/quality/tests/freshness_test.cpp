// Freshness SLOs as monitors (`freshness:<view>`), on a real RocksDB store and registry, with an
// injected clock: the measures move only when the test moves time or writes the store.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "base/clock.h"
#include "base/time.h"
#include "engine/view_freshness.h"
#include "quality/freshness_watch.h"
#include "quality/monitor.h"
#include "quality/tests/lake_fixture.h"
#include "registry/registry.h"
#include "store/online_store.h"

namespace sluice::quality {
namespace {

constexpr std::int64_t kHour = 3'600'000'000;
constexpr std::int64_t kMinute = 60'000'000;
// 2026-01-01T00:00:00Z, the created_at LakeFixture gives every version.
constexpr std::int64_t kT0 = 1'767'225'600'000'000;

class FreshnessTest : public LakeFixture {
 protected:
  void SetUp() override {
    LakeFixture::SetUp();
    source_ = Publish("s", "SELECT 1::BIGINT AS id");
    project_.name = "p";
    project_.dir = dir_;
    config::SourceSpec s;
    s.name = "s";
    project_.sources.push_back(s);
    config::FeatureViewSpec v;
    v.name = "v";
    v.entity = "e";
    v.source = "s";
    project_.feature_views.push_back(v);
    config::OnlineStoreSpec store;
    store.name = "default";
    store.path = "online";
    project_.online_stores.push_back(store);
    config::FreshnessSloSpec slo;
    slo.view = "v";
    slo.max_event_age = std::chrono::hours(1);
    slo.max_ingest_latency = std::chrono::minutes(10);
    slo.severity = config::Severity::kCritical;
    project_.monitoring.freshness.push_back(slo);
    config::AlertSinkSpec sink;
    sink.name = "logged";
    sink.type = config::AlertSinkType::kLog;
    project_.monitoring.sinks.push_back(sink);
    auto registry = registry::Registry::Open(dir_ / "registry.sqlite");
    ASSERT_TRUE(registry.ok()) << registry.status().ToString();
    registry_.emplace(std::move(*registry));
  }

  // Writes the view's meta as a materialization at `written` of events up to `newest`.
  void Materialize(std::int64_t newest, std::int64_t written) {
    auto store = store::OpenOnlineStore(project_.online_stores[0], dir_, /*read_only=*/false);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store::ViewMeta meta;
    meta.source_version = source_.id;
    meta.definition_hash = "d";
    meta.newest_event_micros = newest;
    meta.entities = 1;
    meta.materialized_at = base::FormatTimestampMicros(written);
    ASSERT_TRUE((*store)->Write("v", {{"k", "state"}}, meta).ok());
  }

  MonitorResult RunAt(std::int64_t now) {
    clock_.Set(base::ProcessingTime(base::Duration(now)));
    auto results = RunMonitors(project_, *lake_, *registry_, clock_, {});
    EXPECT_TRUE(results.ok()) << results.status().ToString();
    if (!results.ok() || results->size() != 1) return {};
    return (*results)[0];
  }

  lake::Manifest source_;
  config::ProjectSpec project_;
  std::optional<registry::Registry> registry_;
  base::ManualClock clock_{base::ProcessingTime(base::Duration(kT0))};
};

TEST_F(FreshnessTest, MeasuresEventAgeAndIngestLatencyFromTheStoreAndTheLake) {
  store::ViewMeta meta;
  meta.newest_event_micros = kT0 - 30 * kMinute;
  meta.materialized_at = base::FormatTimestampMicros(kT0 + 4 * kMinute);
  const auto f = engine::MeasureFreshness(project_, project_.feature_views[0], meta,
                                          source_.created_at, kT0 + kHour);
  EXPECT_EQ(f.event_age_micros, kHour + 30 * kMinute);
  ASSERT_TRUE(f.ingest_latency_micros.has_value());
  EXPECT_EQ(*f.ingest_latency_micros, 4 * kMinute);  // materialized 4 min after the ingest
  // A streamed view: from the newest event instead of the (later) archive segment.
  project_.sources[0].type = config::SourceType::kKafka;
  const auto g = engine::MeasureFreshness(project_, project_.feature_views[0], meta,
                                          source_.created_at, kT0 + kHour);
  EXPECT_EQ(*g.ingest_latency_micros, 34 * kMinute);
  // An unknown source version: no latency, never a made-up one.
  project_.sources[0].type = config::SourceType::kFile;
  const auto h =
      engine::MeasureFreshness(project_, project_.feature_views[0], meta, "", kT0 + kHour);
  EXPECT_FALSE(h.ingest_latency_micros.has_value());
}

TEST_F(FreshnessTest, AlertsWhenTheClockPassesTheEventAgeOnceAndAgainAfterANewWrite) {
  Materialize(kT0 - 10 * kMinute, kT0 + 2 * kMinute);
  MonitorResult ok = RunAt(kT0 + 40 * kMinute);
  EXPECT_EQ(ok.monitor, "freshness:v");
  EXPECT_EQ(ok.status, "ok") << ok.summary;
  EXPECT_NE(ok.summary.find("event age 50m"), std::string::npos) << ok.summary;
  EXPECT_NE(ok.summary.find("ingest-to-servable 2m"), std::string::npos) << ok.summary;

  MonitorResult late = RunAt(kT0 + 51 * kMinute);  // 61 minutes after the newest event
  EXPECT_EQ(late.status, "alert") << late.summary;
  EXPECT_EQ(late.severity, "critical");
  EXPECT_NE(late.summary.find("is 1h1m old (SLO 1h)"), std::string::npos) << late.summary;
  EXPECT_FALSE(late.repeated);
  EXPECT_EQ(late.deliveries.size(), 1U);

  MonitorResult again = RunAt(kT0 + 2 * kHour);
  EXPECT_EQ(again.status, "alert");
  EXPECT_TRUE(again.repeated) << "the same stale write alerts once";
  EXPECT_TRUE(again.deliveries.empty());

  // A new write 30 minutes after the ingest: fresh events, but the latency SLO is broken.
  Materialize(kT0 + 2 * kHour, kT0 + 30 * kMinute);
  MonitorResult slow = RunAt(kT0 + 2 * kHour + kMinute);
  EXPECT_EQ(slow.status, "alert") << slow.summary;
  EXPECT_NE(slow.summary.find("became servable 30m after ingestion (SLO 10m)"), std::string::npos)
      << slow.summary;
  EXPECT_FALSE(slow.repeated);
  auto alerts = registry_->Alerts("freshness:v");
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), 2U);
}

TEST_F(FreshnessTest, AViewNotMaterializedIsAnErrorNotAnAlert) {
  MonitorResult r = RunAt(kT0);
  EXPECT_EQ(r.status, "error");
  EXPECT_NE(r.summary.find("not materialized in any online store"), std::string::npos) << r.summary;
}

// What `sluice serve` hands the watch: the view as its snapshot holds it.
ServedFreshness Served(std::int64_t newest, std::int64_t written, std::int64_t now,
                       const std::string& source) {
  ServedFreshness f;
  f.view = "v";
  f.store = "default";
  f.source_version = source;
  f.materialized_at = base::FormatTimestampMicros(written);
  f.newest_event_micros = newest;
  f.event_age_micros = now - newest;
  f.ingest_latency_micros = written - kT0;
  return f;
}

TEST_F(FreshnessTest, ServedViewsAlertOnceAndShareFingerprintsWithTheMonitor) {
  // Nothing served: nothing judged, no error (the server may not hold the view yet).
  auto none = CheckServedFreshness(project_, *registry_, clock_, {});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  const std::int64_t newest = kT0 - 10 * kMinute;
  const std::int64_t written = kT0 + 2 * kMinute;
  clock_.Set(base::ProcessingTime(base::Duration(kT0 + 40 * kMinute)));
  auto ok = CheckServedFreshness(project_, *registry_, clock_,
                                 {Served(newest, written, kT0 + 40 * kMinute, source_.id)});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ASSERT_EQ(ok->size(), 1U);
  EXPECT_EQ((*ok)[0].status, "ok") << (*ok)[0].summary;

  clock_.Set(base::ProcessingTime(base::Duration(kT0 + 51 * kMinute)));
  auto late = CheckServedFreshness(project_, *registry_, clock_,
                                   {Served(newest, written, kT0 + 51 * kMinute, source_.id)});
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 1U);
  EXPECT_EQ((*late)[0].status, "alert");
  EXPECT_EQ((*late)[0].monitor, "freshness:v");
  EXPECT_FALSE((*late)[0].repeated);
  EXPECT_EQ((*late)[0].deliveries.size(), 1U);
  EXPECT_NE((*late)[0].summary.find("is 1h1m old (SLO 1h)"), std::string::npos);

  // `sluice monitor` reading the store of the same write finds the alert already raised.
  Materialize(newest, written);
  MonitorResult monitor = RunAt(kT0 + 55 * kMinute);
  EXPECT_EQ(monitor.status, "alert");
  EXPECT_EQ(monitor.fingerprint, (*late)[0].fingerprint);
  EXPECT_TRUE(monitor.repeated);
  auto alerts = registry_->Alerts("freshness:v");
  ASSERT_TRUE(alerts.ok());
  EXPECT_EQ(alerts->size(), 1U);
}

TEST_F(FreshnessTest, TheWatchChecksOnItsThreadUntilStopped) {
  clock_.Set(base::ProcessingTime(base::Duration(kT0 + 3 * kHour)));
  std::atomic<int> asked{0};
  std::atomic<int> alerts{0};
  std::atomic<int> repeated{0};
  FreshnessWatch watch(
      project_, *registry_, clock_,
      [&] {
        ++asked;
        return std::vector<ServedFreshness>{
            Served(kT0, kT0 + kMinute, kT0 + 3 * kHour, source_.id)};
      },
      [&](const base::Result<std::vector<MonitorResult>>& r) {
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        for (const auto& m : *r) {
          if (m.status == "alert") ++(m.repeated ? repeated : alerts);
        }
      });
  watch.Start(std::chrono::milliseconds(5));
  for (int i = 0; i < 2000 && repeated.load() < 2; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  watch.Stop();
  const int after_stop = asked.load();
  EXPECT_EQ(alerts.load(), 1) << "one stale write, one alert sent";
  EXPECT_GE(repeated.load(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(asked.load(), after_stop) << "no check after Stop";
}

}  // namespace
}  // namespace sluice::quality
