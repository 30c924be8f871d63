// The cost of reading Kafka messages into typed rows, apart from Kafka: every line of a JSON
// Lines file (one message each, e.g. the bench script's example transactions) through
// connectors::KafkaMessageReader::Parse and AppendParsed, as `sluice stream` reads a poll,
// with the example's 9 declared columns. Prints the best of REPEATS passes in ns per message
// and MB/s (bench/stream/README.md).
//
//   message_reader_bench FILE.jsonl [REPEATS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "connectors/kafka_message_reader.h"

namespace {

using sluice::types::LogicalType;

sluice::config::SourceSpec Transactions() {
  sluice::config::SourceSpec s;
  s.name = "tx_stream";
  s.type = sluice::config::SourceType::kKafka;
  s.columns = {{"txn_id", LogicalType::kString, false},
               {"user_id", LogicalType::kInt64, false},
               {"merchant_id", LogicalType::kString, false},
               {"merchant_category", LogicalType::kString, true},
               {"amount", LogicalType::kDouble, false},
               {"currency", LogicalType::kString, true},
               {"country", LogicalType::kString, true},
               {"channel", LogicalType::kString, true},
               {"ts", LogicalType::kTimestamp, false}};
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: message_reader_bench FILE.jsonl [REPEATS]\n");
    return 2;
  }
  const int repeats = argc > 2 ? std::max(1, std::atoi(argv[2])) : 5;
  std::vector<std::string> messages;
  std::ifstream in(argv[1]);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) messages.push_back(line);
  }
  size_t bytes = 0;
  for (const std::string& m : messages)
    bytes += m.size();
  sluice::connectors::KafkaMessageReader reader(Transactions());
  double best = 1e30;
  size_t bad = 0;
  for (int r = 0; r < repeats; ++r) {
    sluice::types::Batch rows = reader.NewBatch();
    bad = 0;
    const auto start = std::chrono::steady_clock::now();
    for (const std::string& m : messages) {
      if (reader.Parse(m)) {
        ++bad;
      } else {
        reader.AppendParsed(rows);
      }
    }
    best = std::min(
        best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  std::printf("%zu messages (%zu quarantined), %.1f MB: best of %d: %.1f ns/message, %.0f MB/s\n",
              messages.size(), bad, static_cast<double>(bytes) / 1e6, repeats,
              best * 1e9 / static_cast<double>(messages.size()),
              static_cast<double>(bytes) / 1e6 / best);
  return 0;
}
