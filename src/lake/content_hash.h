#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::lake {

// SHA-256, the lake's content address. Hex-encoded, lowercase, 64 characters.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(std::string_view bytes);
  // Finishes the digest; the object must not be updated afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(std::string_view bytes);
// Streams the file; fails with the path named if it cannot be read.
base::Result<std::string> Sha256File(const std::filesystem::path& path);

}  // namespace sluice::lake
