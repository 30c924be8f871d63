#include "connectors/kafka_consumer.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <string_view>

#include "base/log.h"

namespace sluice::connectors {
namespace {

std::string ErrText(rd_kafka_resp_err_t err) {
  return rd_kafka_err2str(err);
}

bool Retryable(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN ||
         err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE ||
         err == RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
}

base::Status KafkaError(rd_kafka_resp_err_t err, const std::string& what) {
  return base::IoError(what + ": " + ErrText(err), Retryable(err));
}

// librdkafka's own log lines (broker connections...) through sluice's log, not straight to stderr.
void LogLine(const rd_kafka_t*, int level, const char* facility, const char* text) {
  const std::string line = std::string("kafka ") + facility + ": " + text;
  if (level <= 3) {
    base::LogError(line);
  } else if (level <= 4) {
    base::LogWarn(line);
  } else {
    base::LogDebug(line);
  }
}

// librdkafka's defaults suit throughput, not freshness. fetch.wait.max.ms (default 500 ms) is how
// long a broker may hold a fetch that found too little data: a real broker answers as soon as
// data arrives, but some brokers (librdkafka's mock cluster, which the tests and benchmarks use)
// hold an empty fetch for the whole wait, which then delays every event that arrives meanwhile.
// 10 ms costs an idle topic about 100 small fetch requests a second per broker.
constexpr std::array<std::pair<const char*, const char*>, 1> kStreamingDefaults{{
    {"fetch.wait.max.ms", "10"},
}};

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

base::Result<std::string> ExpandEnvReferences(const std::string& value, const std::string& what,
                                              const EnvLookup& env) {
  std::string out;
  size_t at = 0;
  while (true) {
    const size_t open = value.find("${", at);
    if (open == std::string::npos) break;
    const size_t close = value.find('}', open);
    if (close == std::string::npos) {
      return base::InvalidArgument(what + ": '${' without a closing '}'");
    }
    const std::string name = value.substr(open + 2, close - open - 2);
    std::optional<std::string> v = env(name);
    if (!v) return base::InvalidArgument(what + ": environment variable " + name + " is not set");
    out.append(value, at, open - at);
    out += *v;
    at = close + 1;
  }
  out.append(value, at, std::string::npos);
  return out;
}

struct KafkaConsumer::Handles {
  rd_kafka_t* rk = nullptr;
  rd_kafka_topic_t* topic = nullptr;  // for metadata requests
  rd_kafka_queue_t* queue = nullptr;  // the consumer queue, read in batches
  Options options;
  KafkaRebalanceHandler* handler = nullptr;   // set while subscribed
  base::Status failed = base::Status::Ok();   // sticky: a rebalance the handler could not follow
  std::vector<rd_kafka_message_t*> got;       // the batch Poll is gathering
  std::vector<rd_kafka_message_t*> returned;  // the last Poll's messages: their payloads are lent

  ~Handles() {
    handler = nullptr;  // closing revokes what is assigned; nobody is listening any more
    for (rd_kafka_message_t* m : got)
      rd_kafka_message_destroy(m);
    got.clear();  // closing below runs the rebalance callback, which looks at `got`
    ReleaseReturned();
    if (queue != nullptr) rd_kafka_queue_destroy(queue);
    if (topic != nullptr) rd_kafka_topic_destroy(topic);
    if (rk != nullptr) {
      rd_kafka_consumer_close(rk);
      rd_kafka_destroy(rk);
    }
  }

  void ReleaseReturned() {
    for (rd_kafka_message_t* m : returned)
      rd_kafka_message_destroy(m);
    returned.clear();
  }

  // librdkafka's rebalance callback, on the polling thread inside Poll. librdkafka's assignment
  // follows the group's only through the calls below, so they happen whatever the handler says.
  void Rebalance(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts) {
    const bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    std::vector<std::int32_t> ids;
    for (int i = 0; i < parts->cnt; ++i)
      ids.push_back(parts->elems[i].partition);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      for (int i = 0; i < parts->cnt; ++i) {
        parts->elems[i].offset = options.start == config::KafkaStart::kLatest
                                     ? RD_KAFKA_OFFSET_END
                                     : RD_KAFKA_OFFSET_BEGINNING;
      }
      if (handler != nullptr && failed.ok()) {
        auto starts = handler->OnAssigned(ids);
        if (!starts.ok()) {
          failed = starts.status();
        } else {
          for (const auto& [p, offset] : *starts) {
            for (int i = 0; i < parts->cnt; ++i) {
              if (parts->elems[i].partition == p && offset) parts->elems[i].offset = *offset;
            }
          }
        }
      }
      // A handler that could not say where to start gets nothing to read: the consumer is
      // stopping (Poll returns the error), and reading from any other offset would be wrong.
      if (!failed.ok()) {
        if (!cooperative) rd_kafka_assign(rk, nullptr);
        return;
      }
      const rd_kafka_resp_err_t e = cooperative ? ErrorCode(rd_kafka_incremental_assign(rk, parts))
                                                : rd_kafka_assign(rk, parts);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && failed.ok()) {
        failed = KafkaError(e, "taking the partitions the group gave of '" + options.topic + "'");
      }
      return;
    }
    // Revoked (or the assignment was lost): what was gathered from those partitions and not yet
    // returned goes; their next owner reads it again from the offsets stored with the state.
    std::erase_if(got, [&](rd_kafka_message_t* m) {
      if (std::find(ids.begin(), ids.end(), m->partition) == ids.end()) return false;
      rd_kafka_message_destroy(m);
      return true;
    });
    if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && failed.ok()) {
      failed = KafkaError(err, "rebalancing the group of '" + options.topic + "'");
    }
    if (handler != nullptr && failed.ok()) {
      base::Status st = handler->OnRevoked(ids);
      if (!st.ok()) failed = st;
    }
    if (cooperative) {
      (void)ErrorCode(rd_kafka_incremental_unassign(rk, parts));
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  static rd_kafka_resp_err_t ErrorCode(rd_kafka_error_t* error) {
    if (error == nullptr) return RD_KAFKA_RESP_ERR_NO_ERROR;
    const rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    return code;
  }
};

KafkaConsumer::KafkaConsumer(std::unique_ptr<Handles> handles) : h_(std::move(handles)) {}
KafkaConsumer::~KafkaConsumer() = default;

base::Result<KafkaConsumer::Options> KafkaConsumer::OptionsFor(const config::SourceSpec& source,
                                                               const std::string& group,
                                                               const EnvLookup& env) {
  Options o;
  o.brokers = source.brokers;
  o.topic = source.topic;
  o.group = group;
  o.start = source.start;
  for (const auto& [key, value] : source.properties) {
    SLUICE_ASSIGN_OR_RETURN(
        std::string expanded,
        ExpandEnvReferences(value, "source '" + source.name + "', property '" + key + "'", env));
    o.properties.emplace(key, std::move(expanded));
  }
  return o;
}

base::Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Open(const Options& options) {
  auto h = std::make_unique<Handles>();
  h->options = options;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  // Streaming defaults first (the user's properties override them), then the user's
  // properties, then sluice's own: sluice keeps the stream's position itself.
  std::vector<std::pair<std::string, std::string>> settings(kStreamingDefaults.begin(),
                                                            kStreamingDefaults.end());
  settings.insert(settings.end(), options.properties.begin(), options.properties.end());
  settings.emplace_back("bootstrap.servers", options.brokers);
  settings.emplace_back("group.id", options.group);
  settings.emplace_back("client.id", options.client_id);
  settings.emplace_back("enable.auto.commit", "false");
  settings.emplace_back("enable.auto.offset.store", "false");
  settings.emplace_back("enable.partition.eof", "true");
  settings.emplace_back("auto.offset.reset",
                        options.start == config::KafkaStart::kLatest ? "latest" : "earliest");
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      // librdkafka's message names the property, never its value.
      return base::InvalidArgument("kafka property '" + key + "': " + err);
    }
  }
  rd_kafka_conf_set_log_cb(conf, LogLine);
  rd_kafka_conf_set_opaque(conf, h.get());
  rd_kafka_conf_set_rebalance_cb(
      conf, [](rd_kafka_t*, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
               void* opaque) { static_cast<Handles*>(opaque)->Rebalance(err, parts); });
  h->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
  if (h->rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return base::InvalidArgument(std::string("cannot create a Kafka consumer: ") + err);
  }
  rd_kafka_poll_set_consumer(h->rk);
  h->topic = rd_kafka_topic_new(h->rk, options.topic.c_str(), nullptr);
  if (h->topic == nullptr) {
    return base::InvalidArgument("cannot use topic '" + options.topic + "'");
  }
  h->queue = rd_kafka_queue_get_consumer(h->rk);
  return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(h)));
}

base::Result<int> KafkaConsumer::PartitionCount(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t e =
      rd_kafka_metadata(h_->rk, 0, h_->topic, &md, static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(
        e, "reading the metadata of topic '" + h_->options.topic + "' from " + h_->options.brokers);
  }
  int partitions = 0;
  rd_kafka_resp_err_t topic_err = RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
  for (int t = 0; t < md->topic_cnt; ++t) {
    if (h_->options.topic == md->topics[t].topic) {
      partitions = md->topics[t].partition_cnt;
      topic_err = md->topics[t].err;
    }
  }
  rd_kafka_metadata_destroy(md);
  if (topic_err != RD_KAFKA_RESP_ERR_NO_ERROR || partitions == 0) {
    return KafkaError(topic_err == RD_KAFKA_RESP_ERR_NO_ERROR
                          ? RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                          : topic_err,
                      "topic '" + h_->options.topic + "' at " + h_->options.brokers);
  }
  return partitions;
}

base::Result<std::pair<std::int64_t, std::int64_t>> KafkaConsumer::QueryWatermarks(
    std::int32_t partition, std::chrono::milliseconds timeout) {
  int64_t low = 0, high = 0;
  const rd_kafka_resp_err_t e = rd_kafka_query_watermark_offsets(
      h_->rk, h_->options.topic.c_str(), partition, &low, &high, static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(
        e, "reading the offsets of " + h_->options.topic + "[" + std::to_string(partition) + "]");
  }
  return std::make_pair(std::int64_t{low}, std::int64_t{high});
}

std::optional<std::int64_t> KafkaConsumer::CachedHighWatermark(std::int32_t partition) {
  int64_t low = 0, high = 0;
  if (rd_kafka_get_watermark_offsets(h_->rk, h_->options.topic.c_str(), partition, &low, &high) !=
          RD_KAFKA_RESP_ERR_NO_ERROR ||
      high < 0) {
    return std::nullopt;
  }
  return std::int64_t{high};
}

base::Status KafkaConsumer::Assign(
    const std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>& partitions) {
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
  for (const auto& [p, offset] : partitions) {
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list, h_->options.topic.c_str(), p);
    tp->offset =
        offset ? *offset
               : (h_->options.start == config::KafkaStart::kLatest ? RD_KAFKA_OFFSET_END
                                                                   : RD_KAFKA_OFFSET_BEGINNING);
  }
  const rd_kafka_resp_err_t e = rd_kafka_assign(h_->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return KafkaError(e, "assigning the partitions of '" + h_->options.topic + "'");
  }
  return base::Status::Ok();
}

base::Status KafkaConsumer::Subscribe(KafkaRebalanceHandler* handler) {
  h_->handler = handler;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, h_->options.topic.c_str(), RD_KAFKA_PARTITION_UA);
  const rd_kafka_resp_err_t e = rd_kafka_subscribe(h_->rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    h_->handler = nullptr;
    return KafkaError(e,
                      "joining group '" + h_->options.group + "' on '" + h_->options.topic + "'");
  }
  return base::Status::Ok();
}

void KafkaConsumer::Unsubscribe() {
  if (h_->handler == nullptr) return;
  h_->handler = nullptr;
  rd_kafka_unsubscribe(h_->rk);
}

base::Status KafkaConsumer::Poll(size_t max_messages, std::chrono::milliseconds timeout,
                                 KafkaPoll* out) {
  out->messages.clear();
  out->reached_end.clear();
  h_->ReleaseReturned();  // the caller is done with the last poll's payloads
  if (!h_->failed.ok()) return h_->failed;
  // Waits for the first message only, then takes what has arrived (consume_batch_queue would
  // wait for a full batch or the whole timeout, which idles a stream that is catching up).
  // Rebalance callbacks run inside rd_kafka_consume_queue and may drop gathered messages.
  std::vector<rd_kafka_message_t*>& got = h_->got;
  got.clear();
  got.reserve(std::min<size_t>(max_messages, 4096));
  int wait_ms = static_cast<int>(timeout.count());
  const size_t want = std::max<size_t>(1, max_messages);
  while (got.size() < want) {
    rd_kafka_message_t* m = rd_kafka_consume_queue(h_->queue, wait_ms);
    if (m == nullptr) break;
    got.push_back(m);
    wait_ms = 0;
    // Without a group (partitions assigned, no rebalance callback that could drop what was
    // gathered) the rest of what has arrived comes in one call instead of one per message.
    if (h_->handler == nullptr && got.size() < want) {
      const size_t at = got.size();
      const size_t room = std::min<size_t>(want - at, 4096);
      got.resize(at + room);
      const ssize_t n = rd_kafka_consume_batch_queue(h_->queue, 0, got.data() + at, room);
      got.resize(at + static_cast<size_t>(std::max<ssize_t>(0, n)));
      if (n < static_cast<ssize_t>(room)) break;  // nothing more has arrived
    }
  }
  const auto n = static_cast<ssize_t>(got.size());
  base::Status fatal = base::Status::Ok();
  for (ssize_t i = 0; i < n; ++i) {
    rd_kafka_message_t* m = got[static_cast<size_t>(i)];
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      KafkaMessage& msg = out->messages.emplace_back();
      msg.partition = m->partition;
      msg.offset = m->offset;
      msg.payload = std::string_view(static_cast<const char*>(m->payload), m->len);
      h_->returned.push_back(m);  // destroyed at the next poll
      continue;
    } else if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      out->reached_end.push_back(m->partition);
    } else if (fatal.ok() && (m->err == RD_KAFKA_RESP_ERR__FATAL ||
                              m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE ||
                              m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
                              m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED)) {
      fatal = KafkaError(
          m->err, "consuming " + h_->options.topic + "[" + std::to_string(m->partition) + "]");
    } else {
      base::LogWarn("kafka: " + h_->options.topic + ": " + ErrText(m->err) + " (retrying)");
    }
    rd_kafka_message_destroy(m);
  }
  got.clear();
  if (!h_->failed.ok()) {
    out->messages.clear();  // a rebalance went wrong: nothing from this poll may be used
    out->reached_end.clear();
    return h_->failed;
  }
  return fatal;
}

std::optional<std::string> KafkaConsumer::Setting(const std::string& name) const {
  char value[512];
  size_t size = sizeof(value);
  if (rd_kafka_conf_get(rd_kafka_conf(h_->rk), name.c_str(), value, &size) != RD_KAFKA_CONF_OK) {
    return std::nullopt;
  }
  return std::string(value);
}

void KafkaConsumer::CommitInformational(
    const std::vector<std::pair<std::int32_t, std::int64_t>>& next_offsets) {
  if (next_offsets.empty()) return;
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(next_offsets.size()));
  for (const auto& [p, offset] : next_offsets)
    rd_kafka_topic_partition_list_add(list, h_->options.topic.c_str(), p)->offset = offset;
  rd_kafka_commit(h_->rk, list, /*async=*/1);  // informational: a failure changes nothing
  rd_kafka_topic_partition_list_destroy(list);
}

}  // namespace sluice::connectors
