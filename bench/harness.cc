#include "bench/harness.h"

namespace sluice::bench {

std::map<std::string, std::string>& Baselines() {
  static auto* const kBaselines = new std::map<std::string, std::string>();
  return *kBaselines;
}

}  // namespace sluice::bench
