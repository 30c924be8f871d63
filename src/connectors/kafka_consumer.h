#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/project.h"

namespace sluice::connectors {

// Looks up an environment variable (nullopt: not set). Injected so tests need not touch the
// process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();

// `value` with every ${NAME} replaced by the variable's value. An unset variable is an error
// naming `what` and the variable, never a value (properties hold secrets).
base::Result<std::string> ExpandEnvReferences(const std::string& value, const std::string& what,
                                              const EnvLookup& env);

// One Kafka record as the stream runtime sees it. The payload is librdkafka's own buffer (no
// copy per message): valid until the consumer's next Poll or its destruction.
struct KafkaMessage {
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string_view payload;
};

struct KafkaPoll {
  std::vector<KafkaMessage> messages;     // in partition order of arrival
  std::vector<std::int32_t> reached_end;  // partitions that hit their end while polling
};

// Told by a consumer in a group when the group moves partitions, from inside Poll (on the
// polling thread, between two batches the caller has fully handled).
class KafkaRebalanceHandler {
 public:
  virtual ~KafkaRebalanceHandler() = default;
  // `partitions` arrive: where to start each (nullopt: the topic's beginning or end as
  // Options::start says). An error stops the consumer: Poll returns it.
  virtual base::Result<std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>>
  OnAssigned(const std::vector<std::int32_t>& partitions) = 0;
  // `partitions` are about to be taken away: commit what was consumed from them now. Messages
  // of them not yet returned by Poll are dropped. An error stops the consumer: Poll returns it.
  virtual base::Status OnRevoked(const std::vector<std::int32_t>& partitions) = 0;
};

// A consumer of one topic (librdkafka stays inside kafka_consumer.cpp). Partitions are assigned
// explicitly (Assign) or by the consumer group (Subscribe), always at offsets the caller chose:
// sluice keeps the position with the state it produced, and the group only receives
// informational commits, for lag tools. Not thread-safe.
class KafkaConsumer {
 public:
  struct Options {
    std::string brokers;
    std::string topic;
    std::string group;
    config::KafkaStart start = config::KafkaStart::kEarliest;
    std::map<std::string, std::string> properties;  // already expanded
    std::string client_id = "sluice";
  };
  // The options of `source`, its properties expanded from `env`.
  static base::Result<Options> OptionsFor(const config::SourceSpec& source,
                                          const std::string& group, const EnvLookup& env);

  static base::Result<std::unique_ptr<KafkaConsumer>> Open(const Options& options);
  ~KafkaConsumer();
  KafkaConsumer(const KafkaConsumer&) = delete;
  KafkaConsumer& operator=(const KafkaConsumer&) = delete;

  // The topic's partition count, from the cluster's metadata (fails, retryable, when the topic
  // does not exist or the brokers cannot be reached within `timeout`).
  base::Result<int> PartitionCount(std::chrono::milliseconds timeout);
  // The partition's low and high watermark (the next offset to be written), from the broker.
  base::Result<std::pair<std::int64_t, std::int64_t>> QueryWatermarks(
      std::int32_t partition, std::chrono::milliseconds timeout);
  // The last high watermark seen in fetch responses (no round trip), for lag; nullopt if none.
  std::optional<std::int64_t> CachedHighWatermark(std::int32_t partition);

  // Starts consuming `partitions`: each at its offset, or (nullopt) at the topic's beginning
  // or end as Options::start says.
  base::Status Assign(
      const std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>& partitions);
  // Joins the consumer group: the group's members share the topic's partitions and `handler`
  // (which must outlive the subscription, see Unsubscribe) is told what arrives and what goes.
  base::Status Subscribe(KafkaRebalanceHandler* handler);
  // Leaves the group (the handler is told of no further change); a no-op when not subscribed.
  void Unsubscribe();
  // Waits up to `timeout` for messages and returns at most `max_messages` (their payloads valid
  // until the next Poll). Transient broker errors are logged by librdkafka and retried; a fatal
  // one is returned.
  base::Status Poll(size_t max_messages, std::chrono::milliseconds timeout, KafkaPoll* out);
  // The value librdkafka uses for configuration property `name` (nullopt: unknown property), as
  // set by sluice's streaming defaults, the source's properties and sluice's own settings.
  std::optional<std::string> Setting(const std::string& name) const;
  // Commits `next_offsets` (partition, next offset) to the group, asynchronously, for tools that
  // show a group's lag. sluice itself never reads them back.
  void CommitInformational(const std::vector<std::pair<std::int32_t, std::int64_t>>& next_offsets);

 private:
  struct Handles;
  explicit KafkaConsumer(std::unique_ptr<Handles> handles);
  std::unique_ptr<Handles> h_;
};

}  // namespace sluice::connectors
