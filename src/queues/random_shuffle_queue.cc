#include "queues/random_shuffle_queue.h"

#include <climits>
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice {

using internal::RowChunk;

absl::StatusOr<std::shared_ptr<RandomShuffleQueue>> RandomShuffleQueue::Create(
    RandomShuffleQueueOptions o) {
  SLUICE_RETURN_IF_ERROR(ValidateOptions(o.queue, "RandomShuffleQueue"));
  for (size_t i = 0; i < o.queue.shapes.size(); ++i) {
    if (!o.queue.shapes[i].IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "RandomShuffleQueue '", o.queue.name, "': component ", i, " shape ",
          o.queue.shapes[i].DebugString(), " is not fully defined"));
    }
  }
  const int64_t capacity = o.queue.capacity < 0 ? INT32_MAX : o.queue.capacity;
  if (o.min_after_dequeue < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandomShuffleQueue '", o.queue.name, "': min_after_dequeue (", o.min_after_dequeue,
        ") must be >= 0"));
  }
  if (o.min_after_dequeue >= capacity) {
    return absl::InvalidArgumentError(absl::StrCat(
        "RandomShuffleQueue '", o.queue.name, "': min_after_dequeue (", o.min_after_dequeue,
        ") must be < capacity (", capacity, ")"));
  }
  return std::shared_ptr<RandomShuffleQueue>(new RandomShuffleQueue(o));
}

RandomShuffleQueue::RandomShuffleQueue(const RandomShuffleQueueOptions& o)
    : QueueBase(o.queue, "RandomShuffleQueue"),
      min_after_dequeue_(o.min_after_dequeue),
      seed_(o.seed),
      seed2_(o.seed2),
      columnar_(!o.queue.shapes.empty()),
      rng_(o.seed, o.seed2),
      pool_([&] {
        bool strings = false;
        for (DType d : o.queue.dtypes) strings |= d == DType::kString;
        return strings && !o.queue.shapes.empty() ? std::make_shared<RecordPool>()
                                                  : nullptr;
      }()) {
  if (columnar_) {
    for (size_t i = 0; i < o.queue.dtypes.size(); ++i) {
      Column c;
      c.dtype = o.queue.dtypes[i];
      c.row_shape = o.queue.shapes[i];
      c.row_elems = c.row_shape.num_elements();
      c.row_bytes = c.row_elems * DTypeSize(c.dtype);
      columns_.push_back(std::move(c));
    }
  }
}

int64_t RandomShuffleQueue::AvailableLocked() const {
  if (closed_) return size_;
  return std::max<int64_t>(0, size_ - min_after_dequeue_);
}

std::shared_ptr<internal::OwnedRecords> RandomShuffleQueue::OwnRecords(
    const TensorTuple& rows) const {
  if (!columnar_ || pool_ == nullptr) return nullptr;
  auto owned = std::make_shared<internal::OwnedRecords>();
  owned->pool = pool_;
  owned->ptrs.resize(columns_.size());
  owned->sizes.resize(columns_.size());
  for (size_t i = 0; i < columns_.size() && i < rows.size(); ++i) {
    if (columns_[i].dtype != DType::kString || rows[i].dtype() != DType::kString) continue;
    const Tensor& t = rows[i];
    absl::Span<const std::string_view> views(t.data<std::string_view>(), t.NumElements());
    // Out of memory: nothing owned; PushLocked then copies under the lock.
    if (!pool_->StoreAll(views, &owned->ptrs[i])) return nullptr;
    owned->sizes[i].reserve(views.size());
    for (std::string_view v : views) owned->sizes[i].push_back(static_cast<uint32_t>(v.size()));
  }
  return owned;
}

void RandomShuffleQueue::AppendStackedLocked(const RowChunk& chunk, int64_t count) {
  const TensorTuple& rows = chunk.tuple;
  for (size_t i = 0; i < columns_.size(); ++i) {
    Column& c = columns_[i];
    const Tensor& t = rows[i];
    if (c.dtype == DType::kString) {
      const int64_t n = count * c.row_elems;
      if (pool_release_armed_) {  // drained earlier; keep slots again
        pool_->ReleaseWhenEmpty(false);
        pool_release_armed_ = false;
      }
      if (chunk.owned != nullptr && !chunk.owned->ptrs[i].empty()) {
        const int64_t first = chunk.owned_row * c.row_elems;
        char** src = chunk.owned->ptrs[i].data() + first;
        const uint32_t* sizes = chunk.owned->sizes[i].data() + first;
        for (int64_t e = 0; e < n; ++e) {
          c.ptrs.push_back(src[e]);
          c.sizes.push_back(sizes[e]);
          src[e] = nullptr;  // taken
        }
      } else {
        // Single elements, rows put back by a cancelled dequeue, or an
        // enqueue whose records could not be owned: copy them here.
        absl::Span<const std::string_view> views(t.data<std::string_view>(), n);
        std::vector<char*> stored;
        if (!pool_->StoreAll(views, &stored)) {
          // Out of memory: keep what we can say about it and fail loudly
          // rather than lose rows silently.
          std::abort();
        }
        for (int64_t e = 0; e < n; ++e) {
          c.ptrs.push_back(stored[e]);
          c.sizes.push_back(static_cast<uint32_t>(views[e].size()));
        }
      }
    } else {
      const size_t bytes = count * c.row_bytes;
      if (c.slab_used + bytes > c.slab_capacity) {
        size_t cap = std::max<size_t>({c.slab_capacity * 2, c.slab_used + bytes, 4096});
        std::unique_ptr<char[]> bigger(new char[cap]);
        if (c.slab_used > 0) std::memcpy(bigger.get(), c.slab.get(), c.slab_used);
        c.slab = std::move(bigger);
        c.slab_capacity = cap;
      }
      if (bytes > 0) std::memcpy(c.slab.get() + c.slab_used, t.raw_data(), bytes);
      c.slab_used += bytes;
    }
  }
  size_ += count;
}

void RandomShuffleQueue::PushLocked(RowChunk&& rows) {
  if (columnar_) {
    AppendStackedLocked(rows, rows.rows());
    return;
  }
  if (!rows.stacked) {
    elements_.push_back(std::move(rows.tuple));
  } else {
    for (int64_t r = 0; r < rows.rows(); ++r) elements_.push_back(rows.Element(r));
  }
  size_ += rows.rows();
}

void RandomShuffleQueue::TakeLocked(int64_t n, internal::RowChunks* out) {
  if (!columnar_) {
    for (int64_t k = 0; k < n; ++k) {
      const size_t i = rng_.Uniform(elements_.size());
      out->push_back(RowChunk{std::move(elements_[i]), /*stacked=*/false});
      elements_[i] = std::move(elements_.back());
      elements_.pop_back();
    }
    size_ -= n;
    return;
  }
  // One stacked chunk of n rows; each pick swaps the last row into its
  // place. Picks are drawn first so every column sees the same swaps.
  RowChunk chunk;
  chunk.stacked = true;
  picks_.resize(n);
  for (int64_t k = 0; k < n; ++k) {
    picks_[k] = static_cast<int64_t>(rng_.Uniform(size_ - k));
  }
  for (Column& c : columns_) {
    Tensor t(c.dtype, c.row_shape.Prepended(n));
    int64_t last = size_;
    if (c.dtype == DType::kString) {
      // The picked records go to the batch without a copy; the batch gives
      // them back to the pool when it is dropped.
      const int64_t re = c.row_elems;
      struct Handed {
        std::shared_ptr<RecordPool> pool;
        std::vector<char*> ptrs;
        std::vector<uint32_t> sizes;
      };
      auto* handed = new Handed{pool_, {}, {}};
      handed->ptrs.reserve(n * re);
      handed->sizes.reserve(n * re);
      RefPtr keep = Buffer::Wrap(nullptr, 0, HostAllocator(), [handed] {
        handed->pool->FreeAll(handed->ptrs, handed->sizes);
        delete handed;
      });
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = picks_[k];
        --last;
        for (int64_t e = 0; e < re; ++e) {
          char* p = c.ptrs[i * re + e];
          const uint32_t sz = c.sizes[i * re + e];
          handed->ptrs.push_back(p);
          handed->sizes.push_back(sz);
          t.SetStringView(k * re + e, std::string_view(p, sz), keep);
          if (i != last) {
            c.ptrs[i * re + e] = c.ptrs[last * re + e];
            c.sizes[i * re + e] = c.sizes[last * re + e];
          }
        }
      }
      c.ptrs.resize((size_ - n) * re);
      c.sizes.resize((size_ - n) * re);
    } else if (c.row_bytes == 8) {  // scalar int64/double: the common case
      auto* slab = reinterpret_cast<uint64_t*>(c.slab.get());
      auto* dst = static_cast<uint64_t*>(t.raw_data());
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = picks_[k];
        dst[k] = slab[i];
        slab[i] = slab[--last];
      }
      c.slab_used = (size_ - n) * c.row_bytes;
    } else {
      char* slab = c.slab.get();
      char* dst = static_cast<char*>(t.raw_data());
      const size_t rb = c.row_bytes;
      for (int64_t k = 0; k < n; ++k) {
        const int64_t i = picks_[k];
        --last;
        if (rb == 0) continue;
        std::memcpy(dst + k * rb, slab + i * rb, rb);
        if (i != last) std::memcpy(slab + i * rb, slab + last * rb, rb);
      }
      c.slab_used = (size_ - n) * rb;
    }
    chunk.tuple.push_back(std::move(t));
  }
  size_ -= n;
  out->push_back(std::move(chunk));
  MaybeShrinkLocked();
}

void RandomShuffleQueue::MaybeShrinkLocked() {
  // Drained after holding a lot: the pool's slabs go back once the batches
  // holding its last records are dropped. A queue that never held more
  // than a slab or so keeps it (no map/unmap per record).
  if (size_ == 0 && pool_ != nullptr && !pool_release_armed_ &&
      pool_->bytes_held() > (1u << 20)) {
    pool_->ReleaseWhenEmpty(true);
    pool_release_armed_ = true;
  }
  // Give memory back once the queue has drained well below its peak.
  for (Column& c : columns_) {
    if (c.slab_capacity > (64u << 10) && c.slab_used * 4 < c.slab_capacity) {
      size_t cap = std::max<size_t>(c.slab_used * 2, 4096);
      std::unique_ptr<char[]> smaller(new char[cap]);
      if (c.slab_used > 0) std::memcpy(smaller.get(), c.slab.get(), c.slab_used);
      c.slab = std::move(smaller);
      c.slab_capacity = cap;
    }
    if (c.ptrs.capacity() > 4096 && c.ptrs.size() * 4 < c.ptrs.capacity()) {
      c.ptrs.shrink_to_fit();
      c.sizes.shrink_to_fit();
    }
  }
}

void RandomShuffleQueue::RestoreLocked(internal::RowChunks* parts) {
  // Order does not matter in a shuffle queue: put the rows back anywhere.
  for (RowChunk& c : *parts) PushLocked(std::move(c));
  parts->clear();
}

absl::Status RandomShuffleQueue::CheckCompatibleForSharing(
    const QueueInterface& requested) const {
  SLUICE_RETURN_IF_ERROR(QueueBase::CheckCompatibleForSharing(requested));
  const auto* other = dynamic_cast<const RandomShuffleQueue*>(&requested);
  if (other == nullptr) return absl::OkStatus();  // kinds already matched
  if (other->min_after_dequeue_ != min_after_dequeue_) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Shared queue '", Sv(name()), "' has min_after_dequeue ", min_after_dequeue_,
        " but requested min_after_dequeue ", other->min_after_dequeue_));
  }
  const bool requested_seeded = other->seed_ != 0 || other->seed2_ != 0;
  if (requested_seeded && (other->seed_ != seed_ || other->seed2_ != seed2_)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Shared queue '", Sv(name()), "' has random seeds (", seed_, ", ", seed2_,
        ") but requested seeds (", other->seed_, ", ", other->seed2_, ")"));
  }
  return absl::OkStatus();
}

}  // namespace sluice
