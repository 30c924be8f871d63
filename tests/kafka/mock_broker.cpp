// A Kafka-protocol broker for the tests: librdkafka's mock cluster in a process of its own, so
// producers and consumers in other processes reach it over loopback like a real broker.
//
//   mock_broker BOOTSTRAP_FILE [TOPIC:PARTITIONS...]
//
// Creates the topics, writes the bootstrap address ("127.0.0.1:PORT") to BOOTSTRAP_FILE (written
// to a temporary name and renamed, so a reader never sees half of it) and runs until SIGINT or
// SIGTERM. Topics not named here are created on first use with the mock's default partitions.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <unistd.h>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

volatile std::sig_atomic_t g_stop = 0;

void OnSignal(int) {
  g_stop = 1;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "mock_broker: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Fail("usage: mock_broker BOOTSTRAP_FILE [TOPIC:PARTITIONS...]");
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The handle only does the mock cluster's book keeping; it never produces.
  if (rd_kafka_conf_set(conf, "log_level", "3", err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    return Fail(err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) return Fail(std::string("rd_kafka_new: ") + err);
  rd_kafka_mock_cluster_t* cluster = rd_kafka_mock_cluster_new(rk, 1);
  if (cluster == nullptr) return Fail("could not create the mock cluster");
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto colon = arg.rfind(':');
    const int partitions = colon == std::string::npos ? 1 : std::atoi(arg.c_str() + colon + 1);
    const std::string topic = arg.substr(0, colon);
    if (topic.empty() || partitions < 1) return Fail("bad topic '" + arg + "'");
    if (rd_kafka_mock_topic_create(cluster, topic.c_str(), partitions, 1) !=
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Fail("could not create topic '" + arg + "'");
    }
  }
  const std::string file = argv[1];
  const std::string tmp = file + ".tmp";
  std::FILE* out = std::fopen(tmp.c_str(), "w");
  if (out == nullptr) return Fail("cannot write " + tmp);
  std::fprintf(out, "%s\n", rd_kafka_mock_cluster_bootstraps(cluster));
  if (std::fclose(out) != 0 || std::rename(tmp.c_str(), file.c_str()) != 0) {
    return Fail("cannot write " + file);
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (!g_stop)
    usleep(100 * 1000);
  rd_kafka_mock_cluster_destroy(cluster);
  rd_kafka_destroy(rk);
  return 0;
}
