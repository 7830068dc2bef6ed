#include "graph/summary_writer.h"

#include <unistd.h>

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/graph_def.h"
#include "readers/protobuf_wire.h"
#include "readers/record_writer.h"

namespace sluice {
namespace {

using internal::AppendLengthDelimited;
using internal::AppendTag;
using internal::AppendVarint64;

// Field numbers (tensorflow/core/util/event.proto, framework/summary.proto,
// framework/tensor.proto, framework/tensor_shape.proto).
enum EventField : uint32_t { kEventWallTime = 1, kEventStep = 2, kEventFileVersion = 3, kEventGraphDef = 4,
                          kEventSummary = 5 };
enum SummaryField : uint32_t { kSummaryValue = 1 };
enum ValueField : uint32_t {
  kValueTag = 1,
  kValueSimpleValue = 2,
  kValueImage = 4,
  kValueHisto = 5,
  kValueAudio = 6,
  kValueTensor = 8,
  kValueMetadata = 9,
};
enum HistoField : uint32_t {
  kHistoMin = 1,
  kHistoMax = 2,
  kHistoNum = 3,
  kHistoSum = 4,
  kHistoSumSquares = 5,
  kHistoBucketLimit = 6,
  kHistoBucket = 7,
};
enum ImageField : uint32_t { kImageHeight = 1, kImageWidth = 2, kImageColorspace = 3, kImageEncoded = 4 };
enum AudioField : uint32_t {
  kAudioSampleRate = 1,
  kAudioNumChannels = 2,
  kAudioLengthFrames = 3,
  kAudioEncoded = 4,
  kAudioContentType = 5,
};
enum TensorField : uint32_t { kTensorDtype = 1, kTensorShape = 2, kTensorStringVal = 8 };
constexpr uint32_t kShapeDim = 2, kDimSize = 1;
constexpr uint32_t kMetadataPluginData = 1, kPluginName = 1;
constexpr uint64_t kDtString = 7;  // DataType.DT_STRING

void AppendDouble(std::string* out, uint32_t field, double v) {
  AppendTag(out, field, internal::kWireFixed64);
  char b[8];
  std::memcpy(b, &v, 8);
  out->append(b, 8);
}
void AppendFloat(std::string* out, uint32_t field, float v) {
  AppendTag(out, field, internal::kWireFixed32);
  char b[4];
  std::memcpy(b, &v, 4);
  out->append(b, 4);
}
void AppendVarintField(std::string* out, uint32_t field, uint64_t v) {
  AppendTag(out, field, internal::kWireVarint);
  AppendVarint64(out, v);
}
void AppendPackedDoubles(std::string* out, uint32_t field, const std::vector<double>& v) {
  AppendTag(out, field, internal::kWireLengthDelimited);
  AppendVarint64(out, v.size() * 8);
  const size_t at = out->size();
  out->resize(at + v.size() * 8);
  if (!v.empty()) std::memcpy(out->data() + at, v.data(), v.size() * 8);
}

std::vector<double> MakeDefaultLimits() {
  std::vector<double> pos, neg;
  double v = 1.0e-12;
  while (v < 1.0e20) {
    pos.push_back(v);
    neg.push_back(-v);
    v *= 1.1;
  }
  pos.push_back(DBL_MAX);
  neg.push_back(-DBL_MAX);
  std::reverse(neg.begin(), neg.end());
  std::vector<double> all = std::move(neg);
  all.push_back(0.0);
  all.insert(all.end(), pos.begin(), pos.end());
  return all;
}

std::string Hostname() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "localhost";
  return buf;
}

}  // namespace

const std::vector<double>& Histogram::DefaultBucketLimits() {
  static const std::vector<double>* limits = new std::vector<double>(MakeDefaultLimits());
  return *limits;
}

Histogram::Histogram() : Histogram(DefaultBucketLimits()) {}

Histogram::Histogram(absl::Span<const double> bucket_limits)
    : limits_(bucket_limits.begin(), bucket_limits.end()) {
  if (limits_.empty() || limits_.back() < DBL_MAX) limits_.push_back(DBL_MAX);
  buckets_.assign(limits_.size(), 0.0);
  // TensorFlow's Clear(): min starts at the last limit, max at its negation.
  min_ = limits_.back();
  max_ = -DBL_MAX;
}

void Histogram::Add(double value) {
  const size_t b = std::upper_bound(limits_.begin(), limits_.end(), value) - limits_.begin();
  buckets_[std::min(b, buckets_.size() - 1)] += 1.0;
  min_ = std::min(min_, value);
  max_ = std::max(max_, value);
  num_ += 1;
  sum_ += value;
  sum_squares_ += value * value;
}

void Histogram::EncodeTo(std::string* out, bool preserve_zero_buckets) const {
  AppendDouble(out, kHistoMin, min_);
  AppendDouble(out, kHistoMax, max_);
  AppendDouble(out, kHistoNum, num_);
  AppendDouble(out, kHistoSum, sum_);
  AppendDouble(out, kHistoSumSquares, sum_squares_);
  std::vector<double> limits, counts;
  for (size_t i = 0; i < buckets_.size();) {
    double end = limits_[i];
    double count = buckets_[i];
    ++i;
    if (!preserve_zero_buckets && count <= 0.0) {
      while (i < buckets_.size() && buckets_[i] <= 0.0) {
        end = limits_[i];
        count = buckets_[i];
        ++i;
      }
    }
    limits.push_back(end);
    counts.push_back(count);
  }
  if (counts.empty()) {
    limits.push_back(DBL_MAX);
    counts.push_back(0.0);
  }
  AppendPackedDoubles(out, kHistoBucketLimit, limits);
  AppendPackedDoubles(out, kHistoBucket, counts);
}

void SummaryBuilder::AddValue(std::string_view value) {
  AppendLengthDelimited(&bytes_, kSummaryValue, value);
}

SummaryBuilder& SummaryBuilder::AddScalar(std::string_view tag, float value) {
  std::string v;
  AppendLengthDelimited(&v, kValueTag, tag);
  AppendFloat(&v, kValueSimpleValue, value);
  AddValue(v);
  return *this;
}

absl::Status SummaryBuilder::AddHistogram(std::string_view tag, absl::Span<const double> values) {
  Histogram h;
  for (double v : values) {
    if (!std::isfinite(v)) {
      return absl::InvalidArgumentError(
          absl::StrCat(std::isnan(v) ? "Nan" : "Infinity", " in summary histogram for: ", Sv(tag)));
    }
    h.Add(v);
  }
  AddHistogram(tag, h);
  return absl::OkStatus();
}

SummaryBuilder& SummaryBuilder::AddHistogram(std::string_view tag, const Histogram& histogram) {
  std::string histo;
  histogram.EncodeTo(&histo);
  std::string v;
  AppendLengthDelimited(&v, kValueTag, tag);
  AppendLengthDelimited(&v, kValueHisto, histo);
  AddValue(v);
  return *this;
}

SummaryBuilder& SummaryBuilder::AddImage(std::string_view tag, int height, int width, int colorspace,
                                         std::string_view encoded_png) {
  std::string image;
  AppendVarintField(&image, kImageHeight, static_cast<uint64_t>(static_cast<int64_t>(height)));
  AppendVarintField(&image, kImageWidth, static_cast<uint64_t>(static_cast<int64_t>(width)));
  AppendVarintField(&image, kImageColorspace, static_cast<uint64_t>(static_cast<int64_t>(colorspace)));
  AppendLengthDelimited(&image, kImageEncoded, encoded_png);
  std::string v;
  AppendLengthDelimited(&v, kValueTag, tag);
  AppendLengthDelimited(&v, kValueImage, image);
  AddValue(v);
  return *this;
}

SummaryBuilder& SummaryBuilder::AddAudio(std::string_view tag, float sample_rate, int64_t num_channels,
                                         int64_t length_frames, std::string_view encoded,
                                         std::string_view content_type) {
  std::string audio;
  AppendFloat(&audio, kAudioSampleRate, sample_rate);
  AppendVarintField(&audio, kAudioNumChannels, static_cast<uint64_t>(num_channels));
  AppendVarintField(&audio, kAudioLengthFrames, static_cast<uint64_t>(length_frames));
  AppendLengthDelimited(&audio, kAudioEncoded, encoded);
  AppendLengthDelimited(&audio, kAudioContentType, content_type);
  std::string v;
  AppendLengthDelimited(&v, kValueTag, tag);
  AppendLengthDelimited(&v, kValueAudio, audio);
  AddValue(v);
  return *this;
}

SummaryBuilder& SummaryBuilder::AddText(std::string_view tag, absl::Span<const std::string_view> values,
                                        const TensorShape& shape) {
  std::string shape_proto;
  for (int64_t d : shape.dims()) {
    std::string dim;
    AppendVarintField(&dim, kDimSize, static_cast<uint64_t>(d));
    AppendLengthDelimited(&shape_proto, kShapeDim, dim);
  }
  std::string tensor;
  AppendVarintField(&tensor, kTensorDtype, kDtString);
  AppendLengthDelimited(&tensor, kTensorShape, shape_proto);
  for (std::string_view s : values) AppendLengthDelimited(&tensor, kTensorStringVal, s);
  std::string plugin_data, metadata;
  AppendLengthDelimited(&plugin_data, kPluginName, "text");
  AppendLengthDelimited(&metadata, kMetadataPluginData, plugin_data);
  std::string v;
  AppendLengthDelimited(&v, kValueTag, tag);
  AppendLengthDelimited(&v, kValueTensor, tensor);
  AppendLengthDelimited(&v, kValueMetadata, metadata);
  AddValue(v);
  return *this;
}

SummaryBuilder& SummaryBuilder::Merge(std::string_view serialized_summary) {
  bytes_.append(serialized_summary.data(), serialized_summary.size());
  return *this;
}

absl::StatusOr<std::vector<std::string>> SummaryTags(std::string_view summary) {
  std::vector<std::string> tags;
  const char* p = summary.data();
  const char* end = p + summary.size();
  auto bad = [] { return absl::InvalidArgumentError("Could not parse a Summary"); };
  while (p < end) {
    uint32_t field, wt;
    p = internal::ReadTag(p, end, &field, &wt);
    if (p == nullptr) return bad();
    if (field != kSummaryValue || wt != internal::kWireLengthDelimited) {
      p = internal::SkipField(p, end, field, wt);
      if (p == nullptr) return bad();
      continue;
    }
    std::string_view value;
    p = internal::ReadLengthDelimited(p, end, &value);
    if (p == nullptr) return bad();
    std::string tag;
    const char* q = value.data();
    const char* qend = q + value.size();
    while (q < qend) {
      uint32_t f, w;
      q = internal::ReadTag(q, qend, &f, &w);
      if (q == nullptr) return bad();
      if (f == kValueTag && w == internal::kWireLengthDelimited) {
        std::string_view t;
        q = internal::ReadLengthDelimited(q, qend, &t);
        if (q == nullptr) return bad();
        tag = std::string(t);  // the last occurrence wins, as in protobuf
      } else {
        q = internal::SkipField(q, qend, f, w);
        if (q == nullptr) return bad();
      }
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::string EncodeSummaryEvent(double wall_time, int64_t step, std::string_view serialized_summary) {
  std::string e;
  AppendDouble(&e, kEventWallTime, wall_time);
  AppendVarintField(&e, kEventStep, static_cast<uint64_t>(step));
  AppendLengthDelimited(&e, kEventSummary, serialized_summary);
  return e;
}

std::string EncodeGraphEvent(double wall_time, int64_t step, std::string_view serialized_graph_def) {
  std::string e;
  AppendDouble(&e, kEventWallTime, wall_time);
  if (step != 0) AppendVarintField(&e, kEventStep, static_cast<uint64_t>(step));
  AppendLengthDelimited(&e, kEventGraphDef, serialized_graph_def);
  return e;
}

std::string EncodeFileVersionEvent(double wall_time, std::string_view version) {
  std::string e;
  AppendDouble(&e, kEventWallTime, wall_time);
  AppendLengthDelimited(&e, kEventFileVersion, version);
  return e;
}

double NowWallTime() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return static_cast<double>(us) / 1e6;
}

absl::StatusOr<std::unique_ptr<FileWriter>> FileWriter::Create(std::string logdir,
                                                               FileWriterOptions options) {
  std::error_code ec;
  std::filesystem::create_directories(logdir, ec);
  if (ec) {
    return absl::ErrnoToStatus(ec.value(), absl::StrCat("cannot create log directory ", logdir));
  }
  const double now = NowWallTime();
  const std::string name = absl::StrFormat("events.out.tfevents.%010d.%s%s", static_cast<int64_t>(now),
                                           Hostname(), options.filename_suffix);
  std::string path = (std::filesystem::path(logdir) / name).string();
  SLUICE_ASSIGN_OR_RETURN(std::unique_ptr<RecordWriter> writer, RecordWriter::Open(path, {}));
  SLUICE_RETURN_IF_ERROR(writer->Write(EncodeFileVersionEvent(now)));
  SLUICE_RETURN_IF_ERROR(writer->Flush());
  return std::unique_ptr<FileWriter>(new FileWriter(std::move(logdir), std::move(path), std::move(writer)));
}

FileWriter::FileWriter(std::string logdir, std::string path, std::unique_ptr<RecordWriter> writer)
    : logdir_(std::move(logdir)), path_(std::move(path)), writer_(std::move(writer)) {}

FileWriter::~FileWriter() { Close().IgnoreError(); }

absl::Status FileWriter::AddSummary(std::string_view summary, int64_t global_step) {
  return AddSummary(summary, global_step, NowWallTime());
}

absl::Status FileWriter::AddSummary(std::string_view summary, int64_t global_step, double wall_time) {
  return AddEvent(EncodeSummaryEvent(wall_time, global_step, summary));
}

absl::Status FileWriter::AddGraph(const Graph& graph, int64_t global_step) {
  SLUICE_ASSIGN_OR_RETURN(std::string graph_def, GraphToGraphDef(graph));
  return AddEvent(EncodeGraphEvent(NowWallTime(), global_step, graph_def));
}

absl::Status FileWriter::AddEvent(std::string_view event) {
  absl::MutexLock lock(&mu_);
  if (writer_ == nullptr) return absl::FailedPreconditionError(absl::StrCat("FileWriter ", path_, " is closed"));
  return writer_->Write(event);
}

absl::Status FileWriter::Flush() {
  absl::MutexLock lock(&mu_);
  if (writer_ == nullptr) return absl::OkStatus();
  return writer_->Flush();
}

absl::Status FileWriter::Close() {
  absl::MutexLock lock(&mu_);
  if (writer_ == nullptr) return absl::OkStatus();
  absl::Status s = writer_->Close();
  writer_.reset();
  return s;
}

}  // namespace sluice
