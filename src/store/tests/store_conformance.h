#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "base/result.h"
#include "store/online_store.h"
#include "store/tests/generation_value.h"

namespace sluice::store::test_support {

// One backend under the shared conformance suite (store_conformance.cpp). A fresh Backend is
// made for every test; Open may be called several times to get more handles on the same store.
class Backend {
 public:
  virtual ~Backend() = default;
  // A handle on this test's store. Read-only handles on RocksDB need the store to exist.
  virtual base::Result<std::unique_ptr<OnlineStore>> Open(bool read_only) = 0;
};

struct BackendParam {
  std::string name;
  std::function<std::unique_ptr<Backend>()> make;
};
// For gtest's messages: the backend's name instead of the struct's bytes.
inline void PrintTo(const BackendParam& p, std::ostream* os) {
  *os << p.name;
}

class StoreConformanceTest : public ::testing::TestWithParam<BackendParam> {
 protected:
  void SetUp() override;
  // A view name no other test (or earlier run against the same server) uses.
  std::string View(const std::string& base) const;
  std::unique_ptr<OnlineStore> OpenOrDie(bool read_only);

  std::unique_ptr<Backend> backend_;
};

}  // namespace sluice::store::test_support
