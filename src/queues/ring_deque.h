#pragma once
// RingDeque: a growable ring buffer with O(1) push/pop at both ends and no
// allocation once it has grown to its working size (std::deque allocates a
// block per few large elements). Not thread-safe.
//
// Installed because FIFOQueue holds one as a member (namespace internal:
// not part of the API users call).

#include <cassert>
#include <cstddef>
#include <utility>
#include <vector>

namespace sluice::internal {

template <typename T>
class RingDeque {
 public:
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& front() { return slots_[head_]; }
  T& back() { return slots_[(head_ + size_ - 1) & mask()]; }
  T& operator[](size_t i) { return slots_[(head_ + i) & mask()]; }

  void push_back(T&& v) {
    GrowIfFull();
    slots_[(head_ + size_) & mask()] = std::move(v);
    ++size_;
  }
  void push_front(T&& v) {
    GrowIfFull();
    head_ = (head_ + slots_.size() - 1) & mask();
    slots_[head_] = std::move(v);
    ++size_;
  }
  void pop_front() {
    assert(size_ > 0);
    slots_[head_] = T();  // release what the slot holds now, not on reuse
    PopFrontSlot();
  }
  // For a front element that was just moved from: skips resetting the
  // slot (the next push_back assigns over it).
  void pop_front_moved_from() {
    assert(size_ > 0);
    PopFrontSlot();
  }
  // Frees the slots when the deque is empty and has grown large, so a
  // drained queue gives its memory back.
  // Gives the slots back once a burst beyond kKeptSlots has drained. Below
  // that the ring keeps its size: a queue that often runs empty (a fast
  // consumer) would otherwise free and regrow its ring every few elements.
  static constexpr size_t kKeptSlots = 1024;
  void ShrinkIfEmpty() {
    if (size_ == 0 && slots_.size() > kKeptSlots) {
      std::vector<T>().swap(slots_);
      head_ = 0;
    }
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  void PopFrontSlot() {
    head_ = (head_ + 1) & mask();
    --size_;
  }
  void GrowIfFull() {
    if (size_ < slots_.size()) return;
    std::vector<T> bigger(slots_.empty() ? 16 : slots_.size() * 2);
    for (size_t i = 0; i < size_; ++i) bigger[i] = std::move((*this)[i]);
    slots_.swap(bigger);
    head_ = 0;
  }

  std::vector<T> slots_;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace sluice::internal
