#include "readers/parse_example.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "readers/example.h"
#include "tbb/blocked_range.h"
#include "tbb/parallel_for.h"

namespace sluice {
namespace {

constexpr int64_t kParallelMinBatch = 256;
constexpr int64_t kParallelGrain = 64;

absl::Status CheckDType(std::string_view key, DType dtype) {
  if (dtype == DType::kFloat32 || dtype == DType::kInt64 || dtype == DType::kString) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("feature '", Sv(key), "': dtype ", Sv(DTypeName(dtype)),
                   " is not one of float, int64, string"));
}

FeatureKind KindFor(DType dtype) {
  switch (dtype) {
    case DType::kFloat32: return FeatureKind::kFloatList;
    case DType::kInt64: return FeatureKind::kInt64List;
    default: return FeatureKind::kBytesList;
  }
}

// A default as a flat tensor of exactly `n` elements (a one-element default
// is broadcast).
absl::StatusOr<Tensor> FlatDefault(std::string_view key, DType dtype, const Tensor& def,
                                   int64_t n) {
  if (!def.IsInitialized() || def.dtype() != dtype) {
    return absl::InvalidArgumentError(absl::StrCat(
        "feature '", Sv(key), "': default value must be a ", Sv(DTypeName(dtype)), " tensor"));
  }
  if (def.NumElements() != n && def.NumElements() != 1) {
    return absl::InvalidArgumentError(absl::StrCat("feature '", Sv(key), "': default value has ",
                                                   def.NumElements(), " elements, shape needs ",
                                                   n));
  }
  Tensor flat(dtype, TensorShape{n});
  for (int64_t i = 0; i < n; ++i) {
    int64_t s = def.NumElements() == 1 ? 0 : i;
    if (dtype == DType::kString) {
      flat.SetString(i, def.string(s));
    } else {
      size_t es = DTypeSize(dtype);
      std::memcpy(static_cast<char*>(flat.raw_data()) + i * es,
                  static_cast<const char*>(def.raw_data()) + s * es, es);
    }
  }
  return flat;
}

std::string RecordPrefix(int64_t record) { return absl::StrCat("record ", record, ": "); }

// Writes one feature's values (already checked: kind and count) to `out`.
void WriteValues(const FeatureView& v, DType dtype, void* out) {
  switch (dtype) {
    case DType::kFloat32:
      v.CopyFloats(static_cast<float*>(out));
      break;
    case DType::kInt64:
      v.CopyInt64s(static_cast<int64_t*>(out));
      break;
    default: {
      auto* p = static_cast<std::string_view*>(out);
      v.ForEachBytes([&](std::string_view b) { *p++ = b; });
      break;
    }
  }
}

}  // namespace

absl::StatusOr<ParseSpec> ParseSpec::Create(std::vector<FixedLenFeature> dense,
                                            std::vector<VarLenFeature> sparse) {
  ParseSpec spec;
  for (const FixedLenFeature& f : dense) {
    SLUICE_RETURN_IF_ERROR(CheckDType(f.key, f.dtype));
    if (!f.shape.IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature '", f.key, "': FixedLenFeature shape ", f.shape.DebugString(),
          " is not fully defined"));
    }
    if (f.default_value.has_value()) {
      SLUICE_ASSIGN_OR_RETURN(
          Tensor flat, FlatDefault(f.key, f.dtype, *f.default_value, f.shape.num_elements()));
      spec.flat_defaults_.push_back(std::move(flat));
    } else {
      spec.flat_defaults_.emplace_back();
    }
    spec.keys_.push_back(f.key);
  }
  for (const VarLenFeature& f : sparse) {
    SLUICE_RETURN_IF_ERROR(CheckDType(f.key, f.dtype));
    spec.keys_.push_back(f.key);
  }
  for (size_t i = 0; i < spec.keys_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (spec.keys_[i] == spec.keys_[j]) {
        return absl::InvalidArgumentError(
            absl::StrCat("feature '", spec.keys_[i], "' appears twice in the spec"));
      }
    }
  }
  spec.dense_ = std::move(dense);
  spec.sparse_ = std::move(sparse);
  return spec;
}

namespace {

template <typename T>
T Load(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Equality of two equally long byte strings without a call for short keys
// (feature names are mostly under 16 bytes): two overlapping word loads.
inline bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8) {
    if (n > 16) return std::memcmp(a, b, n) == 0;
    return Load<uint64_t>(a) == Load<uint64_t>(b) &&
           Load<uint64_t>(a + n - 8) == Load<uint64_t>(b + n - 8);
  }
  if (n >= 4) {
    return Load<uint32_t>(a) == Load<uint32_t>(b) &&
           Load<uint32_t>(a + n - 4) == Load<uint32_t>(b + n - 4);
  }
  for (size_t i = 0; i < n; ++i) {
    if (a[i] != b[i]) return false;
  }
  return true;
}

}  // namespace

int ParseSpec::Slot(std::string_view key) const {
  // Specs are small (a handful of features); a scan that compares sizes
  // first beats hashing every key of every record.
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (keys_[i].size() == key.size() && SameBytes(keys_[i].data(), key.data(), key.size())) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

// Fills a ParseResult record by record. FillRecord may run concurrently for
// distinct records; Prepare and Finish run alone.
class ParseExampleBatch {
 public:
  ParseExampleBatch(const ParseSpec& spec, int64_t batch, ParseResult* result,
                    const ParseOptions& options)
      : spec_(spec), batch_(batch), result_(result), options_(options) {}

  absl::Status Prepare() {
    const auto& dense = spec_.dense();
    result_->dense.resize(dense.size());
    for (size_t i = 0; i < dense.size(); ++i) {
      TensorShape want = dense[i].shape.Prepended(batch_);
      Tensor& t = result_->dense[i];
      if (!t.IsInitialized() || t.dtype() != dense[i].dtype || t.shape() != want) {
        t = Tensor(dense[i].dtype, want);
        if (!t.IsInitialized()) return absl::ResourceExhaustedError("ParseExample: out of memory");
      }
      if (dense[i].dtype == DType::kString) {
        // String elements are written as views from several tasks; the
        // buffer's owner list is not thread-safe, so register owners here.
        for (const RefPtr& o : options_.owners) t.buffer()->AddOwner(o);
        if (spec_.flat_defaults_[i].IsInitialized()) {
          t.buffer()->AddOwner(spec_.flat_defaults_[i].buffer());
        }
      }
    }
    // What FillRecord needs of each dense feature, worked out once per
    // batch rather than once per record.
    dense_plan_.resize(dense.size());
    for (size_t i = 0; i < dense.size(); ++i) {
      DensePlan& d = dense_plan_[i];
      d.n = dense[i].shape.num_elements();
      d.dtype = dense[i].dtype;
      d.want = KindFor(d.dtype);
      d.row_bytes = d.n * DTypeSize(d.dtype);
      d.base = static_cast<char*>(result_->dense[i].raw_data());
      d.def = spec_.flat_defaults_[i].IsInitialized() ? spec_.flat_defaults_[i].raw_data()
                                                      : nullptr;
    }
    sparse_views_.assign(batch_ * spec_.sparse().size(), FeatureView());
    return absl::OkStatus();
  }

  // views[slot]: the record's feature for each spec slot, nullptr if absent.
  absl::Status FillRecord(int64_t r, const FeatureView* const* views) {
    const auto& dense = spec_.dense();
    for (size_t i = 0; i < dense_plan_.size(); ++i) {
      const DensePlan& d = dense_plan_[i];
      char* row = d.base + r * d.row_bytes;
      const FeatureView* v = views[i];
      if (v != nullptr && v->kind() != FeatureKind::kNone) {
        if (v->kind() != d.want || v->size() != d.n) return BadDense(r, dense[i], *v);
        WriteValues(*v, d.dtype, row);
      } else if (d.def != nullptr) {
        std::memcpy(static_cast<void*>(row), d.def, d.row_bytes);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(
            RecordPrefix(r), "feature '", dense[i].key, "' is required but missing (no default)"));
      }
    }
    const auto& sparse = spec_.sparse();
    for (size_t j = 0; j < sparse.size(); ++j) {
      const FeatureView* v = views[dense.size() + j];
      if (v == nullptr || v->kind() == FeatureKind::kNone) continue;
      if (v->kind() != KindFor(sparse[j].dtype)) {
        return absl::InvalidArgumentError(absl::StrCat(
            RecordPrefix(r), "feature '", sparse[j].key, "' holds ",
            Sv(FeatureKindName(v->kind())), ", the spec wants ", Sv(DTypeName(sparse[j].dtype))));
      }
      sparse_views_[r * sparse.size() + j] = *v;
    }
    return absl::OkStatus();
  }

  absl::Status Finish() {
    const auto& sparse = spec_.sparse();
    result_->sparse.resize(sparse.size());
    for (size_t j = 0; j < sparse.size(); ++j) {
      int64_t total = 0, longest = 0;
      for (int64_t r = 0; r < batch_; ++r) {
        int64_t n = sparse_views_[r * sparse.size() + j].size();
        total += n;
        longest = std::max(longest, n);
      }
      SparseTensor& st = result_->sparse[j];
      st.indices = Tensor(DType::kInt64, TensorShape{total, 2});
      st.values = Tensor(sparse[j].dtype, TensorShape{total});
      st.dense_shape = Tensor::FromVector<int64_t>({batch_, longest}, TensorShape{2});
      if (sparse[j].dtype == DType::kString) {
        for (const RefPtr& o : options_.owners) st.values.buffer()->AddOwner(o);
      }
      int64_t* idx = st.indices.data<int64_t>();
      char* vals = static_cast<char*>(st.values.raw_data());
      const size_t es = DTypeSize(sparse[j].dtype);
      for (int64_t r = 0; r < batch_; ++r) {
        const FeatureView& v = sparse_views_[r * sparse.size() + j];
        for (int64_t k = 0; k < v.size(); ++k) {
          *idx++ = r;
          *idx++ = k;
        }
        if (v.size() > 0) WriteValues(v, sparse[j].dtype, vals);
        vals += v.size() * es;
      }
      if (sparse[j].dtype == DType::kString && options_.owners.empty()) CopyStrings(&st.values);
    }
    if (options_.owners.empty()) {
      for (size_t i = 0; i < spec_.dense().size(); ++i) {
        if (spec_.dense()[i].dtype == DType::kString) CopyStrings(&result_->dense[i]);
      }
    }
    return absl::OkStatus();
  }

 private:
  struct DensePlan {
    char* base;           // the result tensor's first row
    int64_t n;            // values per record
    size_t row_bytes;     // n * element size
    DType dtype;
    FeatureKind want;     // the list kind dtype needs
    const void* def;      // the flat default's n values, or nullptr
  };

  static absl::Status BadDense(int64_t r, const FixedLenFeature& f, const FeatureView& v) {
    if (v.kind() != KindFor(f.dtype)) {
      return absl::InvalidArgumentError(absl::StrCat(
          RecordPrefix(r), "feature '", f.key, "' holds ", Sv(FeatureKindName(v.kind())),
          ", the spec wants ", Sv(DTypeName(f.dtype))));
    }
    return absl::InvalidArgumentError(absl::StrCat(RecordPrefix(r), "feature '", f.key, "' has ",
                                                   v.size(), " values, shape ",
                                                   f.shape.DebugString(), " needs ",
                                                   f.shape.num_elements()));
  }

  // Without owners the views point into the caller's records; copy them
  // into the tensor's own arena so the result outlives them.
  static void CopyStrings(Tensor* t) {
    for (int64_t i = 0; i < t->NumElements(); ++i) t->SetString(i, t->string(i));
  }

  const ParseSpec& spec_;
  const int64_t batch_;
  ParseResult* result_;
  const ParseOptions& options_;
  std::vector<FeatureView> sparse_views_;  // [record][sparse slot]
  std::vector<DensePlan> dense_plan_;      // by dense slot, set by Prepare
};

namespace {

// Runs fill(r) for every record, serially or on TBB tasks, and returns the
// error of the lowest failing record (so both modes report the same one).
template <typename Fn>
absl::Status ForEachRecord(int64_t batch, bool parallel, Fn&& fill) {
  if (!parallel || batch < kParallelMinBatch) {
    for (int64_t r = 0; r < batch; ++r) SLUICE_RETURN_IF_ERROR(fill(r));
    return absl::OkStatus();
  }
  absl::Mutex mu;
  int64_t first_bad = batch;
  absl::Status first_error;
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, batch, kParallelGrain),
                    [&](const tbb::blocked_range<int64_t>& range) {
                      for (int64_t r = range.begin(); r < range.end(); ++r) {
                        absl::Status s = fill(r);
                        if (!s.ok()) {
                          absl::MutexLock lock(&mu);
                          if (r < first_bad) {
                            first_bad = r;
                            first_error = std::move(s);
                          }
                          return;
                        }
                      }
                    });
  return first_error;
}

absl::Status WithRecord(int64_t r, absl::Status s) {
  if (s.ok()) return s;
  return absl::Status(s.code(), absl::StrCat(RecordPrefix(r), s.message()));
}

}  // namespace

absl::Status ParseExample(absl::Span<const std::string_view> serialized, const ParseSpec& spec,
                          ParseResult* result, const ParseOptions& options) {
  const int64_t batch = static_cast<int64_t>(serialized.size());
  ParseExampleBatch fill(spec, batch, result, options);
  SLUICE_RETURN_IF_ERROR(fill.Prepare());
  const int num_slots = spec.num_slots();
  SLUICE_RETURN_IF_ERROR(ForEachRecord(batch, options.parallel, [&](int64_t r) {
    // Per-record scratch lives on the stack for typical specs.
    absl::InlinedVector<FeatureView, 8> found(num_slots);
    absl::InlinedVector<const FeatureView*, 8> views(num_slots, nullptr);
    SLUICE_RETURN_IF_ERROR(WithRecord(
        r, ForEachFeatureInExample(serialized[r],
                                   [&](std::string_view key, const FeatureView& f) {
                                     int slot = spec.Slot(key);
                                     if (slot < 0) return;
                                     found[slot] = f;  // a later entry wins
                                     views[slot] = &found[slot];
                                   })));
    return fill.FillRecord(r, views.data());
  }));
  return fill.Finish();
}

absl::StatusOr<SequenceParseSpec> SequenceParseSpec::Create(
    std::vector<FixedLenFeature> context_dense, std::vector<VarLenFeature> context_sparse,
    std::vector<FixedLenSequenceFeature> sequence_dense) {
  SequenceParseSpec spec;
  SLUICE_ASSIGN_OR_RETURN(spec.context_,
                          ParseSpec::Create(std::move(context_dense), std::move(context_sparse)));
  for (size_t i = 0; i < sequence_dense.size(); ++i) {
    const FixedLenSequenceFeature& f = sequence_dense[i];
    SLUICE_RETURN_IF_ERROR(CheckDType(f.key, f.dtype));
    if (!f.shape.IsFullyDefined()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature list '", f.key, "': step shape ", f.shape.DebugString(),
          " is not fully defined"));
    }
    if (f.default_value.has_value() &&
        (!f.default_value->IsInitialized() || f.default_value->dtype() != f.dtype ||
         f.default_value->NumElements() != 1)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "feature list '", f.key, "': the padding default must be one ",
          Sv(DTypeName(f.dtype)), " value"));
    }
    for (size_t j = 0; j < i; ++j) {
      if (sequence_dense[j].key == f.key) {
        return absl::InvalidArgumentError(
            absl::StrCat("feature list '", f.key, "' appears twice in the spec"));
      }
    }
  }
  spec.sequence_ = std::move(sequence_dense);
  return spec;
}

absl::Status ParseSequenceExample(absl::Span<const std::string_view> serialized,
                                  const SequenceParseSpec& spec, SequenceParseResult* result,
                                  const ParseOptions& options) {
  const int64_t batch = static_cast<int64_t>(serialized.size());
  std::vector<SequenceExampleView> views(batch);
  SLUICE_RETURN_IF_ERROR(ForEachRecord(
      batch, options.parallel, [&](int64_t r) { return WithRecord(r, views[r].Parse(serialized[r])); }));

  // Context features: the same filling as ParseExample.
  const ParseSpec& cspec = spec.context();
  ParseExampleBatch fill(cspec, batch, &result->context, options);
  SLUICE_RETURN_IF_ERROR(fill.Prepare());
  for (int64_t r = 0; r < batch; ++r) {
    std::vector<const FeatureView*> slots(cspec.num_slots(), nullptr);
    for (const FeatureEntry& e : views[r].context()) {
      int slot = cspec.Slot(e.key);
      if (slot >= 0) slots[slot] = &e.feature;
    }
    SLUICE_RETURN_IF_ERROR(fill.FillRecord(r, slots.data()));
  }
  SLUICE_RETURN_IF_ERROR(fill.Finish());

  // Feature lists: check every step, then write [batch, max_steps] + shape.
  const auto& seq = spec.sequence();
  result->sequence_dense.resize(seq.size());
  result->sequence_lengths.resize(seq.size());
  for (size_t i = 0; i < seq.size(); ++i) {
    const FixedLenSequenceFeature& f = seq[i];
    const int64_t n = f.shape.num_elements();
    std::vector<const FeatureListView*> lists(batch);
    int64_t max_steps = 0;
    for (int64_t r = 0; r < batch; ++r) {
      lists[r] = views[r].FindFeatureList(f.key);
      if (lists[r] == nullptr) {
        if (!f.allow_missing) {
          return absl::InvalidArgumentError(absl::StrCat(
              RecordPrefix(r), "feature list '", f.key, "' is required but missing"));
        }
        continue;
      }
      for (size_t s = 0; s < lists[r]->size(); ++s) {
        const FeatureView& step = (*lists[r])[s];
        // An empty Feature is a step with no values.
        if (step.kind() != FeatureKind::kNone && step.kind() != KindFor(f.dtype)) {
          return absl::InvalidArgumentError(absl::StrCat(
              RecordPrefix(r), "feature list '", f.key, "' step ", s, " holds ",
              Sv(FeatureKindName(step.kind())), ", the spec wants ", Sv(DTypeName(f.dtype))));
        }
        if (step.size() != n) {
          return absl::InvalidArgumentError(absl::StrCat(
              RecordPrefix(r), "feature list '", f.key, "' step ", s, " has ", step.size(),
              " values, shape ", f.shape.DebugString(), " needs ", n));
        }
      }
      max_steps = std::max<int64_t>(max_steps, lists[r]->size());
    }
    TensorShape shape = f.shape.Prepended(max_steps).Prepended(batch);
    Tensor out = f.default_value.has_value() ? Tensor(f.dtype, shape) : Tensor::Zeros(f.dtype, shape);
    Tensor lengths(DType::kInt64, TensorShape{batch});
    if (f.dtype == DType::kString) {
      for (const RefPtr& o : options.owners) out.buffer()->AddOwner(o);
      if (f.default_value.has_value()) out.buffer()->AddOwner(f.default_value->buffer());
    }
    const size_t es = DTypeSize(f.dtype);
    const int64_t row = max_steps * n;
    for (int64_t r = 0; r < batch; ++r) {
      char* base = static_cast<char*>(out.raw_data()) + r * row * es;
      int64_t steps = lists[r] == nullptr ? 0 : static_cast<int64_t>(lists[r]->size());
      lengths.data<int64_t>()[r] = steps;
      for (int64_t s = 0; s < steps; ++s) {
        if (n > 0) WriteValues((*lists[r])[s], f.dtype, base + s * n * es);
      }
      if (f.default_value.has_value()) {
        for (int64_t k = steps * n; k < row; ++k) {
          std::memcpy(base + k * es, f.default_value->raw_data(), es);
        }
      }
    }
    if (f.dtype == DType::kString && options.owners.empty()) {
      for (int64_t k = 0; k < out.NumElements(); ++k) out.SetString(k, out.string(k));
    }
    result->sequence_dense[i] = std::move(out);
    result->sequence_lengths[i] = std::move(lengths);
  }
  return absl::OkStatus();
}

}  // namespace sluice
