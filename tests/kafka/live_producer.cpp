// A steady producer for the stream benchmark (bench/stream): sends transactions with the
// example's columns as JSON, keyed by user, each stamped with the time it is sent, at a fixed
// rate, so `sluice stream` following the topic can report event-to-online freshness.
//
//   live_producer BROKERS TOPIC RATE SECONDS [USERS]
//
// Paced in 1 ms ticks (events due by now are sent, then the producer sleeps to the next tick);
// prints "sent N events in S s (R events/s)" on stdout once everything is delivered. A Python
// loop piped into kcat could not reach 50k events/s on a shared machine; this can.
#include <librdkafka/rdkafka.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <thread>

namespace {

long long g_failed = 0;  // deliveries the broker did not acknowledge

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) ++g_failed;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "live_producer: %s\n", message.c_str());
  return 1;
}

// "2024-03-01T12:00:00.123456Z" for a wall-clock instant.
std::string IsoTime(std::chrono::system_clock::time_point t) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return Fail("usage: live_producer BROKERS TOPIC RATE SECONDS [USERS]");
  const std::string brokers = argv[1];
  const std::string topic = argv[2];
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const long users = argc > 5 ? std::atol(argv[5]) : 5000;
  if (rate <= 0 || seconds <= 0 || users <= 0) return Fail("RATE, SECONDS and USERS must be > 0");

  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Batches leave every millisecond: the producer's own delay stays far below what is measured.
  for (const auto& [key, value] :
       {std::pair<const char*, const char*>{"bootstrap.servers", brokers.c_str()},
        {"linger.ms", "1"},
        {"queue.buffering.max.messages", "1000000"},
        {"batch.num.messages", "10000"},
        {"acks", "1"},
        {"log_level", "3"}}) {
    if (rd_kafka_conf_set(conf, key, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Fail(err);
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) return Fail(std::string("rd_kafka_new: ") + err);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rkt == nullptr) {
    rd_kafka_destroy(rk);
    return Fail("cannot open topic " + topic);
  }

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto stop =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  long long sent = 0;
  char payload[512];
  int status = 0;
  auto now = start;
  while (status == 0) {
    now = Clock::now();
    if (now >= stop) break;
    const auto due =
        static_cast<long long>(rate * std::chrono::duration<double>(now - start).count());
    const std::string ts = IsoTime(std::chrono::system_clock::now());
    for (; sent < due; ++sent) {
      const int n = std::snprintf(
          payload, sizeof(payload),
          R"({"txn_id":"t%lld","user_id":%lld,"merchant_id":"m%lld","merchant_category":"food",)"
          R"("amount":%lld.5,"currency":"EUR","country":"DE","channel":"web","ts":"%s"})",
          sent, sent % users, sent % 300, 1 + sent % 200, ts.c_str());
      // Keyed by user: the topic's partitioner spreads users over its partitions.
      char key[24];
      const int key_len = std::snprintf(key, sizeof(key), "%lld", sent % users);
      while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
                              static_cast<size_t>(n), key, static_cast<size_t>(key_len),
                              nullptr) != 0) {
        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
          status = Fail(std::string("produce: ") + rd_kafka_err2str(rd_kafka_last_error()));
          break;
        }
        rd_kafka_poll(rk, 1);
      }
      if (status != 0) break;
    }
    rd_kafka_poll(rk, 0);
    std::this_thread::sleep_until(now + std::chrono::milliseconds(1));
  }
  if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR && status == 0) {
    status = Fail("not every event was delivered within 30 s");
  }
  if (g_failed > 0 && status == 0) {
    status = Fail(std::to_string(g_failed) + " events were not delivered");
  }
  const double took = std::chrono::duration<double>(now - start).count();
  if (status == 0) {
    std::printf("sent %lld events in %.2f s (%.0f events/s)\n", sent, took,
                static_cast<double>(sent) / took);
  }
  rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk);
  return status;
}
