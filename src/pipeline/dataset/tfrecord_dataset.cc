#include "pipeline/dataset/tfrecord_dataset.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/str_cat.h"
#include <pthread.h>

#include "core/absl_compat.h"
#include "pipeline/internal/worker_pool.h"

namespace sluice {
namespace {

constexpr int64_t kReadChunk = 256;   // records per ReadMany in reader threads
constexpr size_t kMaxBlocks = 4;      // blocks buffered per parallel slot
// AUTOTUNE's read-ahead per slot: starts at kMaxBlocks, at most this many.
// Deeper read-ahead measured slower (pipeline.dataset.autotune at 32
// blocks: 0.69x the hand-set 4): the records go cold in cache before the
// consumer copies them, and on a busy machine a slot runs dry because its
// reader was not scheduled, which more buffer does not cure.
constexpr size_t kMaxAutotuneBlocks = 8;
// A reader that filled its slot resumes once the consumer has taken it
// down to half of its read-ahead: it is woken once per two blocks, not per
// block (each wake-up is a context switch on both sides).

class TFRecordDatasetImpl final : public DatasetBase {
 public:
  TFRecordDatasetImpl(std::vector<std::string> files, TFRecordDatasetOptions o,
                      RecordReaderOptions ro)
      : files_(std::move(files)), o_(std::move(o)), ro_(ro) {}
  std::string DebugName() const override { return "TFRecordDataset"; }
  absl::StatusOr<std::unique_ptr<IteratorBase>> MakeIteratorBase() const override;

  const std::vector<std::string> files_;
  const TFRecordDatasetOptions o_;
  const RecordReaderOptions ro_;

  // A reader of `file`; with detect_compression, of the compression its
  // first bytes show (a file that cannot be read is opened as configured,
  // so that Open reports why).
  absl::StatusOr<std::unique_ptr<RecordReader>> OpenFile(const std::string& file) const {
    if (!o_.detect_compression) return RecordReader::Open(file, ro_);
    std::ifstream in(file, std::ios::binary);
    char head[64];
    in.read(head, sizeof(head));
    if (in.gcount() <= 0) return RecordReader::Open(file, ro_);
    RecordReaderOptions ro = ro_;
    ro.compression = DetectCompression(std::string_view(head, static_cast<size_t>(in.gcount())));
    return RecordReader::Open(file, ro);
  }

  void CountFileEnd(const RecordReader* r, bool abandoned) const {
    if (!o_.stats) return;
    if (r != nullptr) {
      o_.stats->records_skipped += static_cast<int64_t>(r->stats().records_skipped);
      o_.stats->files_abandoned += static_cast<int64_t>(r->stats().files_abandoned);
    }
    if (abandoned) ++o_.stats->files_abandoned;
  }
  void CountRecords(int64_t n) const {
    if (o_.stats) o_.stats->records += n;
  }
  void CountError() const {
    if (o_.stats) ++o_.stats->errors;
  }
};

// Builds a string vector of views from (view, owner) pairs, with one owner
// object for all the chunks involved.
Tensor ViewsTensor(const std::vector<std::string_view>& views, std::vector<RefPtr> chunks) {
  Tensor t(DType::kString, TensorShape{static_cast<int64_t>(views.size())});
  if (chunks.size() == 1) {
    for (size_t i = 0; i < views.size(); ++i) t.SetStringView(i, views[i], chunks[0]);
    return t;
  }
  RefPtr holder = Buffer::Wrap(nullptr, 0, HostAllocator(), [c = std::move(chunks)] {});
  for (size_t i = 0; i < views.size(); ++i) t.SetStringView(i, views[i], holder);
  return t;
}

class SequentialIt final : public IteratorBase {
 public:
  explicit SequentialIt(const TFRecordDatasetImpl* d) : d_(d) {}
  absl::Status GetNext(TensorTuple* out, bool* end) override {
    TensorTuple many;
    SLUICE_RETURN_IF_ERROR(GetNextMany(1, &many, end));
    if (!*end) *out = {many[0].Reshaped(TensorShape{})};
    return absl::OkStatus();
  }
  absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
    *end = false;
    while (true) {
      if (reader_ == nullptr) {
        if (next_file_ >= d_->files_.size()) {
          *end = true;
          return absl::OkStatus();
        }
        const std::string& f = d_->files_[next_file_++];
        absl::StatusOr<std::unique_ptr<RecordReader>> r = d_->OpenFile(f);
        if (!r.ok()) {
          d_->CountError();
          d_->CountFileEnd(nullptr, true);
          return r.status();
        }
        reader_ = *std::move(r);
      }
      absl::Status s = reader_->ReadMany(n, &batch_);
      if (absl::IsOutOfRange(s)) {
        d_->CountFileEnd(reader_.get(), false);
        reader_.reset();
        continue;
      }
      if (!s.ok()) {  // move on to the next file, then report
        d_->CountError();
        d_->CountFileEnd(reader_.get(), true);
        reader_.reset();
        return s;
      }
      std::vector<std::string_view> views(batch_.records().begin(), batch_.records().end());
      std::vector<RefPtr> chunks(batch_.owners().begin(), batch_.owners().end());
      *out = {ViewsTensor(views, std::move(chunks))};
      d_->CountRecords(static_cast<int64_t>(views.size()));
      batch_.Clear();
      return absl::OkStatus();
    }
  }

 private:
  const TFRecordDatasetImpl* d_;
  size_t next_file_ = 0;
  std::unique_ptr<RecordReader> reader_;
  RecordBatch batch_;
};

// One slot of the parallel reader: a thread reading the file it is given
// into a small queue of blocks.
struct Block {
  RecordBatch batch;      // records, or
  absl::Status error;     // an error (the file is abandoned after it), or
  bool file_end = false;  // the end of the file
};

// With AUTOTUNE reads the slot's read-ahead (blocks buffered) is tuned
// like TF 1.15's prefetch autotuner: once the consumer has taken from a
// full read-ahead, finding the slot empty doubles it (up to
// kMaxAutotuneBlocks).
class Slot {
 public:
  Slot(const TFRecordDatasetImpl* d, bool autotune)
      : d_(d),
        autotune_(autotune),
        max_blocks_(kMaxBlocks),
        thread_([this] { Run(); }) {}
  ~Slot() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_->notify_all();
    thread_.join();
  }
  void Assign(const std::string& file) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      file_ = file;
      has_file_ = true;
    }
    cv_->notify_all();
  }
  // Blocks buffered at most (AUTOTUNE's current choice).
  size_t read_ahead() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_blocks_;
  }
  // Blocks until a block is ready. With `wake_later`, a reader waiting for
  // room is not woken here but its condition variable is returned there
  // (nullptr if none) for the caller to notify after leaving its critical
  // section: woken here, the reader preempted the caller while it held the
  // parallel Map's input lock (on 2 cores, a quarter of the 2-core run's
  // context switches). A reader is always woken at once when the slot is
  // empty.
  Block Take(std::shared_ptr<std::condition_variable>* wake_later = nullptr) {
    std::unique_lock<std::mutex> lock(mu_);
    bool grew = false;
    if (autotune_ && blocks_.empty() && !upswing_) {
      max_blocks_ = std::min(2 * max_blocks_, kMaxAutotuneBlocks);
      upswing_ = true;
      grew = reader_waiting_;
    }
    if (grew) {
      lock.unlock();
      cv_->notify_all();  // the reader may wait for room
      lock.lock();
    }
    if (blocks_.empty()) {
      consumer_waiting_ = true;
      if (reader_waiting_) cv_->notify_all();  // a wake-up left for later
      cv_->wait(lock, [&] { return !blocks_.empty(); });
      consumer_waiting_ = false;
    }
    if (autotune_ && upswing_ && blocks_.size() >= max_blocks_) upswing_ = false;
    Block b = std::move(blocks_.front());
    blocks_.pop_front();
    const bool wake = reader_waiting_ && blocks_.size() <= max_blocks_ / 2;
    lock.unlock();
    if (wake) {
      if (wake_later != nullptr) {
        *wake_later = cv_;
      } else {
        cv_->notify_all();
      }
    }
    return b;
  }

 private:
  bool Push(Block b, PhaseClock* clock) {
    clock->Switch(StagePhase::kOutputWait);
    std::unique_lock<std::mutex> lock(mu_);
    if (blocks_.size() >= max_blocks_) {
      reader_waiting_ = true;
      cv_->wait(lock,
                [&] { return stop_ || blocks_.size() <= max_blocks_ / 2; });
      reader_waiting_ = false;
    }
    if (stop_) return false;
    blocks_.push_back(std::move(b));
    const bool wake = consumer_waiting_;
    lock.unlock();
    if (wake) cv_->notify_all();
    clock->Switch(StagePhase::kBusy);
    return true;
  }
  void Run() {
    pthread_setname_np(pthread_self(), "sluice-read");  // for perf and top
    PhaseClock clock(d_->o_.metrics);
    while (true) {
      std::string file;
      {
        clock.Switch(StagePhase::kInputWait);
        std::unique_lock<std::mutex> lock(mu_);
        cv_->wait(lock, [&] { return stop_ || has_file_; });
        if (stop_) return;
        file = file_;
        clock.Switch(StagePhase::kBusy);
      }
      absl::StatusOr<std::unique_ptr<RecordReader>> r = d_->OpenFile(file);
      if (!r.ok()) {
        d_->CountFileEnd(nullptr, true);
        Block e;
        e.error = r.status();
        if (!Push(std::move(e), &clock)) return;
      } else {
        std::unique_ptr<RecordReader> reader = *std::move(r);
        while (true) {
          Block b;
          absl::Status s = reader->ReadMany(kReadChunk, &b.batch);
          if (absl::IsOutOfRange(s)) {
            d_->CountFileEnd(reader.get(), false);
            break;
          }
          if (!s.ok()) {
            d_->CountFileEnd(reader.get(), true);
            Block e;
            e.error = s;
            if (!Push(std::move(e), &clock)) return;
            break;
          }
          if (d_->o_.metrics != nullptr) {
            d_->o_.metrics->AddItems(static_cast<int64_t>(b.batch.size()));
          }
          if (!Push(std::move(b), &clock)) return;
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        has_file_ = false;
      }
      Block end;
      end.file_end = true;
      if (!Push(std::move(end), &clock)) return;
    }
  }

  const TFRecordDatasetImpl* d_;
  std::mutex mu_;  // std::mutex: cv_ waits on it
  // Shared with deferred wake-ups (Take's `wake_later`), which may run
  // after the slot is gone (a notify nobody waits for then).
  const std::shared_ptr<std::condition_variable> cv_ =
      std::make_shared<std::condition_variable>();
  std::deque<Block> blocks_;  // guarded by mu_
  std::string file_;          // guarded by mu_
  bool has_file_ = false;     // guarded by mu_
  bool stop_ = false;         // guarded by mu_
  bool reader_waiting_ = false;    // guarded by mu_
  bool consumer_waiting_ = false;  // guarded by mu_
  const bool autotune_;
  size_t max_blocks_;     // guarded by mu_
  bool upswing_ = true;   // guarded by mu_
  std::thread thread_;
};

class ParallelIt final : public IteratorBase {
 public:
  ParallelIt(const TFRecordDatasetImpl* d, int n, bool autotune)
      : d_(d), walk_(n), autotune_(autotune) {
    for (int i = 0; i < n; ++i) slots_.push_back(std::make_unique<Slot>(d, autotune));
    if (d_->o_.metrics != nullptr) {
      d_->o_.metrics->SetParameter("parallelism", n);
      d_->o_.metrics->SetParameter("read_ahead_blocks", kMaxBlocks);
    }
  }
  ~ParallelIt() override {
    walk_.clear();
    slots_.clear();  // stops and joins the threads
  }
  absl::Status GetNext(TensorTuple* out, bool* end) override {
    TensorTuple many;
    SLUICE_RETURN_IF_ERROR(GetNextMany(1, &many, end));
    if (!*end) *out = {many[0].Reshaped(TensorShape{})};
    return absl::OkStatus();
  }
  absl::Status GetNextMany(int64_t n, TensorTuple* out, bool* end) override {
    return Next(n, out, end, nullptr);
  }
  // The readers this call made room for are woken by `work` (after the
  // caller's critical section), not here.
  absl::Status GetNextManyDeferred(int64_t n, TensorTuple* out, bool* end,
                                   DeferredWork* work) override {
    absl::Status s = Next(n, out, end, &wakes_);
    if (!wakes_.empty()) {
      work->Add([wakes = std::move(wakes_)] {
        for (const auto& cv : wakes) cv->notify_all();
      });
      wakes_ = {};
    }
    return s;
  }

 private:
  // GetNextMany; with `wakes`, the readers to wake are appended there.
  absl::Status Next(
      int64_t n, TensorTuple* out, bool* end,
      std::vector<std::shared_ptr<std::condition_variable>>* wakes) {
    *end = false;
    if (!pending_.ok()) return TakePending();
    ++call_;
    views_.clear();
    chunks_.clear();
    while (static_cast<int64_t>(views_.size()) < n) {
      Walk& w = walk_[cur_];
      if (!w.active) {
        if (next_file_ < d_->files_.size()) {
          slots_[cur_]->Assign(d_->files_[next_file_++]);
          w.active = true;
          w.block = Block();
          w.pos = 0;
          w.fetched = false;
        } else {
          bool any = false;
          for (const Walk& x : walk_) any = any || x.active;
          if (!any) break;
          cur_ = (cur_ + 1) % walk_.size();
          continue;
        }
      }
      if (!w.fetched || w.pos >= w.block.batch.size()) {
        std::shared_ptr<std::condition_variable> wake;
        w.block = slots_[cur_]->Take(wakes != nullptr ? &wake : nullptr);
        if (wake != nullptr) wakes->push_back(std::move(wake));
        w.registered = 0;
        w.pos = 0;
        w.fetched = true;
        if (!w.block.error.ok()) {
          if (!views_.empty()) {  // deliver the records first
            w.pos = 0;
            w.fetched = false;
            pending_ = w.block.error;
            w.block = Block();
            break;
          }
          absl::Status e = w.block.error;
          w.block = Block();
          w.fetched = false;
          d_->CountError();
          return e;
        }
        if (w.block.file_end) {
          w.active = false;
          cur_ = (cur_ + 1) % walk_.size();
          continue;
        }
      }
      if (w.registered != call_) {  // this call's result keeps the block's chunks
        for (const RefPtr& c : w.block.batch.owners()) chunks_.push_back(c);
        w.registered = call_;
      }
      views_.push_back(w.block.batch.record(w.pos));
      ++w.pos;
      cur_ = (cur_ + 1) % walk_.size();  // block_length 1
    }
    if (views_.empty()) {
      *end = true;
      return absl::OkStatus();
    }
    *out = {ViewsTensor(views_, std::move(chunks_))};
    d_->CountRecords(static_cast<int64_t>(views_.size()));
    chunks_ = {};
    if (autotune_ && d_->o_.metrics != nullptr && (call_ & 255) == 0) {
      size_t most = 0;
      for (auto& s : slots_) most = std::max(most, s->read_ahead());
      d_->o_.metrics->SetParameter("read_ahead_blocks", static_cast<int64_t>(most));
    }
    return absl::OkStatus();
  }

  absl::Status TakePending() {
    d_->CountError();
    return std::exchange(pending_, absl::OkStatus());
  }
  struct Walk {
    bool active = false;
    bool fetched = false;
    Block block;
    size_t pos = 0;
    uint64_t registered = 0;  // the call_ whose chunks_ holds block's owners
  };
  const TFRecordDatasetImpl* d_;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<Walk> walk_;
  size_t cur_ = 0;
  size_t next_file_ = 0;
  uint64_t call_ = 0;
  absl::Status pending_;  // an error met after records; returned next call
  std::vector<std::string_view> views_;
  std::vector<RefPtr> chunks_;
  std::vector<std::shared_ptr<std::condition_variable>> wakes_;  // scratch
  const bool autotune_;
};

absl::StatusOr<std::unique_ptr<IteratorBase>> TFRecordDatasetImpl::MakeIteratorBase() const {
  int n = o_.num_parallel_reads.value_or(1);
  const bool autotune = n == kAutotune;
  if (autotune) {
    // Read as many files at once as there are CPUs (at least 2, so that one
    // file's I/O waits overlap another's reading), never more than there
    // are files; the order is the round-robin over that many.
    n = std::max(2, internal::CpuBudget());
    n = static_cast<int>(std::min<size_t>(static_cast<size_t>(n), files_.size()));
  }
  if (n > 1) return std::unique_ptr<IteratorBase>(std::make_unique<ParallelIt>(this, n, autotune));
  return std::unique_ptr<IteratorBase>(std::make_unique<SequentialIt>(this));
}

}  // namespace

Dataset TFRecordDataset(std::vector<std::string> files, TFRecordDatasetOptions o) {
  if (o.buffer_size < 0) {
    return Dataset(absl::InvalidArgumentError(
        absl::StrCat("`buffer_size` must be >= 0 (0 == no buffering), got ", o.buffer_size)));
  }
  if (o.num_parallel_reads.has_value() && *o.num_parallel_reads <= 0 &&
      *o.num_parallel_reads != kAutotune) {
    return Dataset(absl::InvalidArgumentError("num_parallel_reads must be > 0 or AUTOTUNE"));
  }
  if (o.compression != Compression::kNone && o.compression != Compression::kZlib &&
      o.compression != Compression::kGzip) {
    return Dataset(absl::InvalidArgumentError(absl::StrCat(
        "TFRecordDataset: unknown compression type ", static_cast<int>(o.compression))));
  }
  RecordReaderOptions ro;
  ro.compression = o.compression;
  if (o.buffer_size > 0) ro.buffer_size = static_cast<size_t>(o.buffer_size);
  ro.corrupt_policy = o.corrupt_policy;
  ro.map_file = o.map_file;
  ro.inflater = o.inflater;
  return Dataset(std::make_shared<const TFRecordDatasetImpl>(std::move(files), std::move(o), ro));
}

}  // namespace sluice
