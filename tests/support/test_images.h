#pragma once
// Test helpers for image files: reading the real files under
// tests/testdata/images (SLUICE_TESTDATA overrides the testdata folder).
// Header-only; no thread-safety concerns (no shared state).

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

namespace sluice::test_support {

// The bytes of tests/testdata/images/<name>; empty when the file is missing
// (the caller's decode then fails and names the image).
inline std::string ReadImage(const std::string& name) {
  const char* d = std::getenv("SLUICE_TESTDATA");
  std::ifstream f(std::string(d != nullptr ? d : "tests/testdata") + "/images/" + name,
                  std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace sluice::test_support
