#pragma once
// Summary ops as graph nodes (tf.compat.v1.summary.*): each produces a
// serialized tensorflow.Summary as a string scalar and joins the SUMMARIES
// collection; MergeAll merges that collection; FileWriter::AddSummary (or
// AddSummaryTensor below) writes the result.
//
//   with name_scope "layer1": Scalar(s, "mean", m)  → node and tag "layer1/mean"
//   Output merged = MergeAll(root);
//   sess.Run({}, {merged}, &out);  AddSummaryTensor(writer, out[0], step);
//
// Tags follow TensorFlow 1.x: the summary's own unique name scope
// ("layer1/mean", then "layer1/mean_1"), which is also the node name.
// Kernel errors (InvalidArgument): a NaN or infinity in a histogram ("Nan
// in summary histogram for: TAG"), an image tensor that is not
// [batch, h, w, 1|3|4], a duplicate tag in a merge ("Duplicate tag TAG
// found in summary inputs"). Builder errors go to the scope's status.

#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "graph/summary_writer.h"

namespace sluice::summary {

// ScalarSummary: Value { tag, simple_value } of a numeric scalar.
Output Scalar(const Scope& scope, std::string_view name, const Input& value);
// HistogramSummary of every element of a numeric tensor.
Output Histogram(const Scope& scope, std::string_view name, const Input& values);
// ImageSummary of up to max_images images of a [batch, h, w, c] float or
// uint8 tensor, tagged "NAME/image" (max_images == 1) or "NAME/image/i".
// Floats are scaled as TensorFlow does: to [0, 255] when all are
// non-negative, else so that the largest magnitude maps to 127 around 128;
// non-finite pixels are red.
Output Image(const Scope& scope, std::string_view name, const Input& images, int64_t max_images = 3);
// tf.summary.audio (AudioSummaryV2): up to max_outputs clips of a float
// [batch, frames] or [batch, frames, channels] tensor with samples in
// [-1, 1], each encoded as a 16-bit PCM WAV (wav_encoder.h) at
// `sample_rate` Hz (a float scalar, rounded for the WAV header, at least
// 1), tagged "NAME/audio" (max_outputs == 1) or "NAME/audio/i".
Output Audio(const Scope& scope, std::string_view name, const Input& tensor, const Input& sample_rate,
             int64_t max_outputs = 3);
// tf.summary.text: a string tensor for TensorBoard's text plugin.
Output Text(const Scope& scope, std::string_view name, const Input& text);
// MergeSummary of serialized Summary string tensors.
Output Merge(const Scope& scope, const std::vector<Output>& inputs);
// merge_all: Merge of the SUMMARIES collection; an invalid Output (and no
// error) when the collection is empty, as TensorFlow returns None.
Output MergeAll(const Scope& scope);

}  // namespace sluice::summary

namespace sluice {

// Writes a summary tensor (a string scalar, or a vector of serialized
// summaries) that a summary op produced. InvalidArgument for other dtypes.
absl::Status AddSummaryTensor(FileWriter* writer, const Tensor& summary, int64_t global_step);

}  // namespace sluice
