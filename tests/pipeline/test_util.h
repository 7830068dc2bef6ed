#pragma once
// Helpers for pipeline tests: a fresh temporary folder per test and the id
// carried by a synthetic record.
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "gtest/gtest.h"
#include "readers/example.h"

namespace sluice::testing {

// A new empty folder under $TMPDIR, removed when the object dies.
class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base ? base : "/tmp") + "/sluice-pipeline-XXXXXX";
    char* p = mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(std::string_view name) const { return path_ + "/" + std::string(name); }

 private:
  std::string path_;
};

// The "id" feature of a synthetic Example (-1 when it cannot be read).
inline int64_t RecordId(std::string_view serialized) {
  ExampleView ex;
  if (!ex.Parse(serialized).ok()) return -1;
  const FeatureView* f = ex.Find("id");
  if (f == nullptr || f->kind() != FeatureKind::kInt64List || f->size() != 1) return -1;
  int64_t v = -1;
  f->CopyInt64s(&v);
  return v;
}

}  // namespace sluice::testing
