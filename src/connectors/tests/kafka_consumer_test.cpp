// KafkaConsumer against the mock broker of the kafka fixture (tests/kafka), a process of its
// own reached over loopback.
#include "connectors/kafka_consumer.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <set>

namespace sluice::connectors {
namespace {

// KAFKA_BROKERS from the fixture's env file.
std::string Brokers() {
  const char* env = std::getenv("SLUICE_KAFKA_ENV");
  if (env == nullptr) return "";
  std::ifstream in(env);
  std::string line;
  while (std::getline(in, line)) {
    const std::string key = "export KAFKA_BROKERS=";
    if (line.rfind(key, 0) == 0) return line.substr(key.size());
  }
  return "";
}

// Produces `messages` (partition, payload) to `topic` and waits until all are acknowledged.
void Produce(const std::string& brokers, const std::string& topic,
             const std::vector<std::pair<int, std::string>>& messages) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  ASSERT_EQ(rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), err, sizeof(err)),
            RD_KAFKA_CONF_OK);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  ASSERT_NE(rk, nullptr) << err;
  for (const auto& [p, payload] : messages) {
    ASSERT_EQ(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(p),
                                RD_KAFKA_V_VALUE(const_cast<char*>(payload.data()), payload.size()),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  EXPECT_EQ(rd_kafka_flush(rk, 10000), RD_KAFKA_RESP_ERR_NO_ERROR);
  rd_kafka_destroy(rk);
}

TEST(KafkaConsumerTest, ReadsAssignedPartitionsFromChosenOffsetsToTheirEnd) {
  const std::string brokers = Brokers();
  ASSERT_FALSE(brokers.empty()) << "run under ctest with the kafka fixture";
  const std::string topic = "kafka_consumer";
  std::vector<std::pair<int, std::string>> sent;
  for (int p = 0; p < 3; ++p) {
    for (int i = 0; i < 5; ++i)
      sent.emplace_back(p, "p" + std::to_string(p) + "-m" + std::to_string(i));
  }
  Produce(brokers, topic, sent);

  KafkaConsumer::Options options;
  options.brokers = brokers;
  options.topic = topic;
  options.group = "kafka_consumer_test";
  auto consumer = KafkaConsumer::Open(options);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto partitions = (*consumer)->PartitionCount(std::chrono::seconds(10));
  ASSERT_TRUE(partitions.ok()) << partitions.status().ToString();
  EXPECT_EQ(*partitions, 3);
  auto marks = (*consumer)->QueryWatermarks(1, std::chrono::seconds(10));
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  EXPECT_EQ(marks->first, 0);
  EXPECT_EQ(marks->second, 5);

  // Partition 0 from the start, 1 from offset 3, 2 where `start` says (earliest).
  ASSERT_TRUE((*consumer)->Assign({{0, 0}, {1, 3}, {2, std::nullopt}}).ok());
  std::map<int, std::vector<std::pair<std::int64_t, std::string>>> got;
  std::set<int> ended;
  KafkaPoll poll;
  for (int i = 0; i < 200 && ended.size() < 3; ++i) {
    ASSERT_TRUE((*consumer)->Poll(100, std::chrono::milliseconds(100), &poll).ok());
    for (const auto& m : poll.messages)
      got[m.partition].emplace_back(m.offset, m.payload);
    ended.insert(poll.reached_end.begin(), poll.reached_end.end());
  }
  ASSERT_EQ(ended.size(), 3U);
  ASSERT_EQ(got[0].size(), 5U);
  ASSERT_EQ(got[1].size(), 2U);
  ASSERT_EQ(got[2].size(), 5U);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(got[0][static_cast<size_t>(i)],
              std::make_pair(std::int64_t{i}, "p0-m" + std::to_string(i)));
  }
  EXPECT_EQ(got[1][0], std::make_pair(std::int64_t{3}, std::string("p1-m3")));
  EXPECT_EQ(got[1][1], std::make_pair(std::int64_t{4}, std::string("p1-m4")));
  EXPECT_EQ((*consumer)->CachedHighWatermark(0), std::optional<std::int64_t>(5));
  (*consumer)->CommitInformational({{0, 5}, {1, 5}, {2, 5}});
}

// Records what the group gives and takes; starts every partition it gets at `start`.
struct Recorder final : KafkaRebalanceHandler {
  std::set<std::int32_t> owned;
  int revoked = 0;
  std::int64_t start = 1;
  base::Status fail_with = base::Status::Ok();

  base::Result<std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>> OnAssigned(
      const std::vector<std::int32_t>& partitions) override {
    if (!fail_with.ok()) return fail_with;
    std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>> starts;
    for (std::int32_t p : partitions) {
      owned.insert(p);
      starts.emplace_back(p, start);
    }
    return starts;
  }
  base::Status OnRevoked(const std::vector<std::int32_t>& partitions) override {
    ++revoked;
    for (std::int32_t p : partitions)
      owned.erase(p);
    return base::Status::Ok();
  }
};

KafkaConsumer::Options GroupOptions(const std::string& group) {
  KafkaConsumer::Options options;
  options.brokers = Brokers();
  options.topic = "kafka_group";
  options.group = group;
  options.properties = {{"session.timeout.ms", "3000"},
                        {"heartbeat.interval.ms", "200"},
                        {"max.poll.interval.ms", "3000"}};
  return options;
}

// Two consumers of one group share the partitions; the first gives them back when the second
// joins (told before they go) and gets them all again when it leaves; every partition starts
// where the handler said, not at the group's committed offsets.
TEST(KafkaConsumerTest, GroupMembersShareThePartitionsAndStartWhereTheHandlerSays) {
  ASSERT_FALSE(Brokers().empty()) << "run under ctest with the kafka fixture";
  std::vector<std::pair<int, std::string>> sent;
  for (int p = 0; p < 4; ++p) {
    for (int i = 0; i < 3; ++i)
      sent.emplace_back(p, "p" + std::to_string(p) + "-m" + std::to_string(i));
  }
  Produce(Brokers(), "kafka_group", sent);
  auto a = KafkaConsumer::Open(GroupOptions("kafka_group_test"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  Recorder ra;
  ASSERT_TRUE((*a)->Subscribe(&ra).ok());
  KafkaPoll poll;
  std::map<int, std::int64_t> first_offset;
  for (int i = 0; i < 300 && (ra.owned.size() < 4 || first_offset.size() < 4); ++i) {
    ASSERT_TRUE((*a)->Poll(100, std::chrono::milliseconds(100), &poll).ok());
    for (const auto& m : poll.messages)
      first_offset.emplace(m.partition, m.offset);
  }
  EXPECT_EQ(ra.owned, (std::set<std::int32_t>{0, 1, 2, 3}));
  ASSERT_EQ(first_offset.size(), 4U);
  for (const auto& [p, offset] : first_offset)
    EXPECT_EQ(offset, 1) << "partition " << p;
  (*a)->CommitInformational({{0, 3}, {1, 3}, {2, 3}, {3, 3}});

  auto b = KafkaConsumer::Open(GroupOptions("kafka_group_test"));
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  Recorder rb;
  ASSERT_TRUE((*b)->Subscribe(&rb).ok());
  for (int i = 0;
       i < 300 && (ra.owned.size() + rb.owned.size() != 4 || rb.owned.empty() || ra.owned.empty());
       ++i) {
    ASSERT_TRUE((*a)->Poll(100, std::chrono::milliseconds(50), &poll).ok());
    ASSERT_TRUE((*b)->Poll(100, std::chrono::milliseconds(50), &poll).ok());
  }
  EXPECT_GE(ra.revoked, 1);
  EXPECT_FALSE(ra.owned.empty());
  EXPECT_FALSE(rb.owned.empty());
  std::set<std::int32_t> all = ra.owned;
  all.insert(rb.owned.begin(), rb.owned.end());
  EXPECT_EQ(all, (std::set<std::int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(ra.owned.size() + rb.owned.size(), 4U);

  b->reset();  // leaves the group
  for (int i = 0; i < 300 && ra.owned.size() < 4; ++i)
    ASSERT_TRUE((*a)->Poll(100, std::chrono::milliseconds(100), &poll).ok());
  EXPECT_EQ(ra.owned.size(), 4U);
  (*a)->Unsubscribe();
}

// A handler that cannot take its partitions stops the consumer: Poll returns its error.
TEST(KafkaConsumerTest, AHandlerErrorIsReturnedByPoll) {
  ASSERT_FALSE(Brokers().empty()) << "run under ctest with the kafka fixture";
  auto c = KafkaConsumer::Open(GroupOptions("kafka_group_failing"));
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  Recorder r;
  r.fail_with = base::FailedPrecondition("no cursor for you");
  ASSERT_TRUE((*c)->Subscribe(&r).ok());
  KafkaPoll poll;
  base::Status st = base::Status::Ok();
  for (int i = 0; i < 300 && st.ok(); ++i)
    st = (*c)->Poll(100, std::chrono::milliseconds(100), &poll);
  EXPECT_EQ(st.code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(st.message(), "no cursor for you");
  EXPECT_TRUE(poll.messages.empty());
}

TEST(KafkaConsumerTest, AnUnreachableClusterIsARetryableError) {
  KafkaConsumer::Options options;
  options.brokers = "127.0.0.1:1";  // nothing listens on port 1
  options.topic = "t";
  options.group = "g";
  auto consumer = KafkaConsumer::Open(options);
  ASSERT_TRUE(consumer.ok()) << consumer.status().ToString();
  auto partitions = (*consumer)->PartitionCount(std::chrono::milliseconds(500));
  ASSERT_FALSE(partitions.ok());
  EXPECT_TRUE(partitions.status().retryable()) << partitions.status().ToString();
  EXPECT_NE(partitions.status().message().find("127.0.0.1:1"), std::string::npos);
}

// Streaming defaults (fetch.wait.max.ms, for freshness) apply unless the source's properties
// set the property; sluice's own settings (its position is kept with the state) always win.
TEST(KafkaConsumerTest, PropertiesOverrideTheStreamingDefaults) {
  KafkaConsumer::Options options;
  options.brokers = "127.0.0.1:1";
  options.topic = "t";
  options.group = "g";
  auto plain = KafkaConsumer::Open(options);
  ASSERT_TRUE(plain.ok()) << plain.status().ToString();
  EXPECT_EQ((*plain)->Setting("fetch.wait.max.ms"), "10");
  EXPECT_EQ((*plain)->Setting("enable.auto.commit"), "false");
  EXPECT_EQ((*plain)->Setting("no.such.property"), std::nullopt);

  options.properties["fetch.wait.max.ms"] = "250";
  options.properties["enable.auto.commit"] = "true";
  auto tuned = KafkaConsumer::Open(options);
  ASSERT_TRUE(tuned.ok()) << tuned.status().ToString();
  EXPECT_EQ((*tuned)->Setting("fetch.wait.max.ms"), "250");
  EXPECT_EQ((*tuned)->Setting("enable.auto.commit"), "false");

  options.properties["fetch.wait.max.ms"] = "soon";
  auto bad = KafkaConsumer::Open(options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fetch.wait.max.ms"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace sluice::connectors
