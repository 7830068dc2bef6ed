#pragma once
// TensorBoard summaries on disk: the Summary / HistogramProto wire encoding
// (field numbers of TensorFlow's summary.proto and event.proto, see
// docs/spec/tfrecord-and-example.md) and FileWriter, which writes
// events.out.tfevents.<unix seconds>.<hostname> files: a TFRecord stream of
// Event protos whose first record carries file_version "brain.Event:2".
//
// Summaries are passed around serialized (a string tensor in the graph,
// like tf.summary.* ops produce); concatenating serialized Summary
// messages merges them, which is what merge_all relies on.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "core/tensor_shape.h"

namespace sluice {

class RecordWriter;
class Graph;

// A histogram with TensorFlow's bucket layout (core/lib/histogram): by
// default buckets grow by 10% from ±1e-12 to ±1e20, with 0 and ±DBL_MAX as
// limits; a value v lands in the first bucket whose limit is > v.
// Not thread-safe.
class Histogram {
 public:
  Histogram();
  // Limits must be strictly increasing; DBL_MAX is appended when the last
  // limit is smaller.
  explicit Histogram(absl::Span<const double> bucket_limits);

  void Add(double value);

  double min() const { return min_; }
  double max() const { return max_; }
  double num() const { return num_; }
  double sum() const { return sum_; }
  double sum_squares() const { return sum_squares_; }
  const std::vector<double>& bucket_limits() const { return limits_; }
  const std::vector<double>& buckets() const { return buckets_; }

  // Appends a serialized HistogramProto, as TensorFlow's EncodeToProto:
  // runs of empty buckets collapse into one entry (the run's last limit)
  // unless `preserve_zero_buckets`; at least one bucket is always written.
  void EncodeTo(std::string* out, bool preserve_zero_buckets = false) const;

  // TensorFlow's default limits, ascending.
  static const std::vector<double>& DefaultBucketLimits();

 private:
  std::vector<double> limits_;
  std::vector<double> buckets_;
  double min_, max_;
  double num_ = 0, sum_ = 0, sum_squares_ = 0;
};

// Builds one serialized tensorflow.Summary. Not thread-safe.
class SummaryBuilder {
 public:
  // Value { tag, simple_value } — the TF1 scalar.
  SummaryBuilder& AddScalar(std::string_view tag, float value);
  // Value { tag, histo } of `values`. InvalidArgument for NaN or infinity
  // ("Nan in summary histogram for: TAG", as TensorFlow), nothing added.
  absl::Status AddHistogram(std::string_view tag, absl::Span<const double> values);
  SummaryBuilder& AddHistogram(std::string_view tag, const Histogram& histogram);
  // Value { tag, image { height, width, colorspace, encoded_image_string } };
  // colorspace is the channel count (1 gray, 3 RGB, 4 RGBA).
  SummaryBuilder& AddImage(std::string_view tag, int height, int width, int colorspace,
                           std::string_view encoded_png);
  // Value { tag, audio { sample_rate, num_channels, length_frames,
  // encoded_audio_string, content_type } } (AudioSummaryV2's value).
  SummaryBuilder& AddAudio(std::string_view tag, float sample_rate, int64_t num_channels,
                           int64_t length_frames, std::string_view encoded, std::string_view content_type);
  // tf.summary.text: Value { tag, metadata { plugin_data { plugin_name:
  // "text" } }, tensor { dtype: DT_STRING, tensor_shape, string_val... } }.
  // Requires values.size() == shape.num_elements().
  SummaryBuilder& AddText(std::string_view tag, absl::Span<const std::string_view> values,
                          const TensorShape& shape = TensorShape{});
  // Appends a serialized Summary's values (merging).
  SummaryBuilder& Merge(std::string_view serialized_summary);

  bool empty() const { return bytes_.empty(); }
  const std::string& bytes() const { return bytes_; }
  std::string Release() { return std::move(bytes_); }

 private:
  void AddValue(std::string_view value);
  std::string bytes_;
};

// Tags of the values of a serialized Summary, in order. InvalidArgument
// when the bytes are not a Summary.
absl::StatusOr<std::vector<std::string>> SummaryTags(std::string_view serialized_summary);

// A serialized Event { wall_time, step, summary }.
std::string EncodeSummaryEvent(double wall_time, int64_t step, std::string_view serialized_summary);
// A serialized Event { wall_time, step, graph_def } (field 4: the
// serialized GraphDef, as TensorFlow's FileWriter.add_graph writes it).
std::string EncodeGraphEvent(double wall_time, int64_t step, std::string_view serialized_graph_def);
// A serialized Event { wall_time, file_version }.
std::string EncodeFileVersionEvent(double wall_time, std::string_view version = "brain.Event:2");

// Seconds since the epoch, with microseconds (TensorFlow's wall_time).
double NowWallTime();

struct FileWriterOptions {
  // Appended to the file name (TensorFlow's filename_suffix).
  std::string filename_suffix;
};

// tf.summary.FileWriter: creates `logdir` (with parents) and the event file
// at Create, writing the file_version event at once. Every Add* appends one
// record; Flush makes them visible to readers; Close flushes and closes
// (idempotent; Add* after Close is FailedPrecondition). Unlike TensorFlow's
// it writes synchronously (no background thread), so Flush has nothing
// queued to wait for.
//
// Thread-safe: calls may come from several threads; records never
// interleave.
class FileWriter {
 public:
  static absl::StatusOr<std::unique_ptr<FileWriter>> Create(std::string logdir,
                                                            FileWriterOptions options = {});
  ~FileWriter();
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  // add_summary(summary, global_step): an Event with the current wall time.
  absl::Status AddSummary(std::string_view serialized_summary, int64_t global_step);
  absl::Status AddSummary(std::string_view serialized_summary, int64_t global_step, double wall_time);
  // add_graph(graph): the graph as a GraphDef event (graph_def.h), which
  // TensorBoard's graph tab shows.
  absl::Status AddGraph(const Graph& graph, int64_t global_step = 0);
  // A complete serialized Event.
  absl::Status AddEvent(std::string_view serialized_event);
  absl::Status Flush();
  absl::Status Close();

  const std::string& path() const { return path_; }
  const std::string& logdir() const { return logdir_; }

 private:
  FileWriter(std::string logdir, std::string path, std::unique_ptr<RecordWriter> writer);

  const std::string logdir_;
  const std::string path_;
  absl::Mutex mu_;
  std::unique_ptr<RecordWriter> writer_ ABSL_GUARDED_BY(mu_);
};

}  // namespace sluice
