#include "pipeline/dataset/tfrecord_dataset.h"

#include <algorithm>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "pipeline/internal/worker_pool.h"
#include "pipeline/synthetic_records.h"
#include "readers/record_writer.h"
#include "test_util.h"

namespace sluice {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::TempDir;

std::string WriteFile(const TempDir& dir, const std::string& name,
                      const std::vector<std::string>& records, Compression c = Compression::kNone) {
  const std::string path = dir.Sub(name);
  RecordWriterOptions o;
  o.compression = c;
  auto w = RecordWriter::Open(path, o);
  EXPECT_TRUE(w.ok());
  for (const auto& r : records) EXPECT_TRUE((*w)->Write(r).ok());
  EXPECT_TRUE((*w)->Close().ok());
  return path;
}

// All records as strings; errors as "E:<code>".
std::vector<std::string> Drain(const Dataset& ds, bool many = false) {
  std::vector<std::string> out;
  auto it = ds.MakeIterator();
  EXPECT_TRUE(it.ok()) << it.status();
  if (!it.ok()) return out;
  for (int guard = 0; guard < 100000; ++guard) {
    auto e = many ? (*it)->GetNextMany(3) : (*it)->GetNext();
    if (absl::IsOutOfRange(e.status())) break;
    if (!e.ok()) {
      out.push_back("E:" + std::string(absl::StatusCodeToString(e.status().code())));
      continue;
    }
    const Tensor& t = (*e)[0];
    for (int64_t i = 0; i < t.NumElements(); ++i) out.emplace_back(t.string(i));
  }
  return out;
}

TEST(TFRecordDatasetTest, SequentialAndParallelReadOrders) {
  TempDir dir;
  std::string a = WriteFile(dir, "a", {"a0", "a1"});
  std::string b = WriteFile(dir, "b", {"b0", "b1"});
  EXPECT_THAT(Drain(TFRecordDataset({a, b})), ElementsAre("a0", "a1", "b0", "b1"));
  TFRecordDatasetOptions o;
  o.num_parallel_reads = 2;
  EXPECT_THAT(Drain(TFRecordDataset({a, b}, o)), ElementsAre("a0", "b0", "a1", "b1"));
  EXPECT_THAT(Drain(TFRecordDataset({a, b}, o), true), ElementsAre("a0", "b0", "a1", "b1"));
}

TEST(TFRecordDatasetTest, DetectCompressionReadsAMixedListFileByFile) {
  TempDir dir;
  const std::string plain = WriteFile(dir, "plain", {"p0", "p1"});
  const std::string gz = WriteFile(dir, "gz", {"g0", "g1"}, Compression::kGzip);
  const std::string zl = WriteFile(dir, "zl", {"z0"}, Compression::kZlib);
  const std::string empty = WriteFile(dir, "empty", {});
  TFRecordDatasetOptions o;
  o.detect_compression = true;
  o.compression = Compression::kGzip;  // unused when detecting
  EXPECT_THAT(Drain(TFRecordDataset({gz, plain, empty, zl}, o)),
              ElementsAre("g0", "g1", "p0", "p1", "z0"));
  o.num_parallel_reads = 2;
  EXPECT_THAT(Drain(TFRecordDataset({gz, plain, zl}, o)),
              ElementsAre("g0", "p0", "g1", "p1", "z0"));
  // A missing file is still NotFound, in its turn.
  o.num_parallel_reads.reset();
  EXPECT_THAT(Drain(TFRecordDataset({plain, dir.Sub("none"), zl}, o)),
              ElementsAre("p0", "p1", "E:NOT_FOUND", "z0"));
  // Without detection a mixed list is read as one compression: the gzip
  // file is not a valid uncompressed one.
  EXPECT_THAT(Drain(TFRecordDataset({plain, gz})), ElementsAre("p0", "p1", "E:DATA_LOSS"));
}

TEST(TFRecordDatasetTest, ParallelRefillsAFinishedSlotWithTheNextFile) {
  TempDir dir;
  std::string a = WriteFile(dir, "a", {"a0"});
  std::string b = WriteFile(dir, "b", {"b0", "b1", "b2"});
  std::string c = WriteFile(dir, "c", {"c0", "c1"});
  TFRecordDatasetOptions o;
  o.num_parallel_reads = 2;
  // Interleave(cycle 2, block 1): a0 b0 | slot0 ends, move on: b1 | slot0
  // takes c: c0 b2 c1.
  EXPECT_THAT(Drain(TFRecordDataset({a, b, c}, o)),
              ElementsAre("a0", "b0", "b1", "c0", "b2", "c1"));
  EXPECT_THAT(Drain(TFRecordDataset({a, b, c}, o), true),
              ElementsAre("a0", "b0", "b1", "c0", "b2", "c1"));
}

TEST(TFRecordDatasetTest, ParallelReadersThatFillTheirSlotsLoseAndReorderNothing) {
  // Files much longer than a slot's buffer (4 blocks of 256 records), so
  // each reader pauses when its slot is full and resumes as it drains.
  TempDir dir;
  const std::vector<int> sizes = {3000, 1700, 2500, 900, 1300};
  std::vector<std::vector<std::string>> contents;
  std::vector<std::string> files;
  for (size_t f = 0; f < sizes.size(); ++f) {
    std::vector<std::string> recs;
    for (int i = 0; i < sizes[f]; ++i) recs.push_back(absl::StrCat(f, ":", i));
    files.push_back(WriteFile(dir, absl::StrCat("f", f), recs));
    contents.push_back(std::move(recs));
  }
  const int n_auto = std::min<int>(static_cast<int>(files.size()),
                                   std::max(2, internal::CpuBudget()));
  for (int n : {2, 3, kAutotune}) {
    const int requested = n;
    if (n == kAutotune) n = n_auto;  // AUTOTUNE: that many files at once
    // The interleave order (cycle n, block 1; a slot whose file ended takes
    // the next file when the walk comes back to it).
    std::vector<std::string> want;
    std::vector<int> slot(n, -1), pos(n, 0);
    size_t next = 0;
    for (int cur = 0;; cur = (cur + 1) % n) {
      if (slot[cur] < 0) {
        if (next < files.size()) {
          slot[cur] = static_cast<int>(next++);
          pos[cur] = 0;
        } else if (std::all_of(slot.begin(), slot.end(), [](int s) { return s < 0; })) {
          break;
        } else {
          continue;
        }
      }
      if (pos[cur] == static_cast<int>(contents[slot[cur]].size())) {
        slot[cur] = -1;
        continue;
      }
      want.push_back(contents[slot[cur]][pos[cur]++]);
    }
    TFRecordDatasetOptions o;
    o.num_parallel_reads = requested;
    StageMetrics metrics("read");
    o.metrics = &metrics;
    EXPECT_EQ(Drain(TFRecordDataset(files, o)), want) << n << " readers";
    if (requested == kAutotune) {  // the choice is in the stage report
      EXPECT_THAT(metrics.SummaryLine(), HasSubstr(absl::StrCat("parallelism ", n_auto)));
      EXPECT_THAT(metrics.SummaryLine(), HasSubstr("read_ahead_blocks"));
    }
    auto it = TFRecordDataset(files, o).MakeIterator();
    ASSERT_TRUE(it.ok());
    std::vector<std::string> got;
    while (true) {
      auto b = (*it)->GetNextMany(100);
      if (absl::IsOutOfRange(b.status())) break;
      ASSERT_TRUE(b.ok()) << b.status();
      for (int64_t i = 0; i < (*b)[0].NumElements(); ++i) got.emplace_back((*b)[0].string(i));
    }
    EXPECT_EQ(got, want) << n << " readers, 100 at a time";
  }
}

TEST(TFRecordDatasetTest, OptionValidationAndUnknownCompressionIsInvalidArgument) {
  TempDir dir;
  std::string a = WriteFile(dir, "a", {"x", "y"});
  TFRecordDatasetOptions o;
  o.buffer_size = -1;
  EXPECT_TRUE(absl::IsInvalidArgument(TFRecordDataset({a}, o).status()));
  o.buffer_size = 0;
  EXPECT_THAT(Drain(TFRecordDataset({a}, o)), ElementsAre("x", "y"));
  // A misspelt name never reads as uncompressed: it fails where it is
  // parsed, naming it; a value outside the enum fails the dataset.
  absl::StatusOr<Compression> bad = ParseCompression("SNAPPYISH");
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status()));
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("SNAPPYISH"));
  o.compression = static_cast<Compression>(7);
  absl::Status s = TFRecordDataset({a}, o).status();
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr("compression type 7"));
  std::string z = WriteFile(dir, "z", {"p", "q"}, Compression::kGzip);
  auto gzip = ParseCompression("gzip");
  ASSERT_TRUE(gzip.ok());
  o.compression = *gzip;
  EXPECT_THAT(Drain(TFRecordDataset({z}, o)), ElementsAre("p", "q"));
}

TEST(TFRecordDatasetTest, TruncatedAndFlippedFilesAreDataLossThenTheNextFile) {
  TempDir dir;
  std::string good = WriteFile(dir, "good", {"g0", "g1"});
  std::string cut = WriteFile(dir, "cut", {"c0", "c1"});
  std::filesystem::resize_file(cut, std::filesystem::file_size(cut) - 3);
  std::string flip = WriteFile(dir, "flip", {"f0", "f1"});
  {
    std::fstream f(flip, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(12);  // first payload byte
    f.put('X');
  }
  for (int par : {0, 2}) {
    TFRecordDatasetOptions o;
    if (par) o.num_parallel_reads = par;
    o.stats = std::make_shared<TFRecordDatasetStats>();
    auto it = TFRecordDataset({cut, flip, good}, o).MakeIterator();
    ASSERT_TRUE(it.ok());
    std::vector<std::string> seen;
    for (int i = 0; i < 20; ++i) {
      auto e = (*it)->GetNext();
      if (absl::IsOutOfRange(e.status())) break;
      if (!e.ok()) {
        EXPECT_TRUE(absl::IsDataLoss(e.status()));
        seen.push_back(std::string(e.status().message()).find("truncated") != std::string::npos
                           ? "truncated"
                           : "corrupted");
        continue;
      }
      seen.emplace_back((*e)[0].string(0));
    }
    if (par == 0) {
      EXPECT_THAT(seen, ElementsAre("c0", "truncated", "corrupted", "g0", "g1"));
    } else {
      // Slots: cut | flip, then good takes the first freed slot.
      EXPECT_THAT(seen, ::testing::UnorderedElementsAre("c0", "truncated", "corrupted", "g0", "g1"));
      EXPECT_EQ(seen[0], "c0");
    }
    EXPECT_EQ(o.stats->errors.load(), 2);
    EXPECT_EQ(o.stats->records.load(), 3);
  }
}

TEST(TFRecordDatasetTest, FileEndingAtARecordBoundaryEndsCleanlyAndMissingFileIsNotFound) {
  TempDir dir;
  std::string a = WriteFile(dir, "a", {"x"});
  EXPECT_THAT(Drain(TFRecordDataset({dir.Sub("missing"), a})), ElementsAre("E:NOT_FOUND", "x"));
}

}  // namespace
}  // namespace sluice
