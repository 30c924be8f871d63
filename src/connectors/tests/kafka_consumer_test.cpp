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

}  // namespace
}  // namespace sluice::connectors
