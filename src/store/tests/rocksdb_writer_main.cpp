// A writer in a process of its own, for the test that reads while another process
// materializes (rocksdb_store_test.cpp). Usage: store_test_writer DIR GENERATIONS ENTITIES
// Writes generation 0, prints "ready", waits for a line on stdin, then writes the remaining
// generations and exits 0 (1 on any error, with the reason on stderr).
#include <cstdlib>
#include <iostream>
#include <string>

#include "store/rocksdb_store.h"
#include "store/tests/generation_value.h"

namespace {

int Fail(const sluice::base::Status& s) {
  std::cerr << "store_test_writer: " << s.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice::store;
  if (argc != 4) {
    std::cerr << "usage: store_test_writer DIR GENERATIONS ENTITIES\n";
    return 2;
  }
  const int generations = std::atoi(argv[2]);
  const auto entities = test_support::GenerationEntities(std::atoi(argv[3]));
  StoreOptions options;
  // Small memtables: the reader must follow across flushes and compactions, not only the WAL.
  options.write_buffer_bytes = 64 << 10;
  auto store = OpenRocksDbStore(argv[1], /*read_only=*/false, options);
  if (!store.ok()) return Fail(store.status());
  for (int g = 0; g < generations; ++g) {
    std::vector<std::pair<std::string, std::string>> batch;
    for (const auto& e : entities)
      batch.emplace_back(e, test_support::GenerationValue(g, e));
    ViewMeta meta;
    meta.source_version = std::to_string(g);
    if (auto s = (*store)->Write("gen", batch, meta); !s.ok()) return Fail(s);
    if (g == 0) {
      std::cout << "ready" << std::endl;
      std::string line;
      std::getline(std::cin, line);
    }
  }
  return 0;
}
