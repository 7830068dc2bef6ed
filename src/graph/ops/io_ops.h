#pragma once
// Input ops as graph nodes (tf.train.string_input_producer,
// tf.TFRecordReader): the first stage of a TensorFlow 1.x input graph.
//
//   Output files = ops::StringInputProducer(root, {"a.tfrecord", "b.tfrecord"},
//                                           {.num_epochs = 1});
//   Output reader = ops::TFRecordReader(root);
//   ops::ReaderOutputs rec = ops::ReaderRead(root, reader, files);
//   ... ParseSingleExample(rec.value) ... ShuffleBatch(...)
//
// StringInputProducer builds a FIFOQueue of file names and a QUEUE_RUNNERS
// entry that enqueues one (shuffled) epoch per step; with num_epochs the
// step fails with OutOfRange "Reached limit of N" after N epochs, the runner
// closes the queue, readers drain it and report OutOfRange (spec §4.3).
// The epoch counter is a LOCAL variable: run LocalVariablesInitializer.
//
// Reader nodes own one TFRecordReaderOp (pipeline/reader_op.h) per session;
// ReaderRead blocks on the file-name queue (run deadline and
// Session::Close wake it) and fails with OutOfRange once that queue is
// closed and drained. Without the pipeline library the reader ops build but
// fail at run time with Unimplemented.

#include <cstdint>
#include <optional>
#include <string>

#include "graph/graph.h"
#include "graph/input.h"
#include "graph/scope.h"
#include "readers/compression.h"

namespace sluice::ops {

struct InputProducerOptions {
  std::optional<int64_t> num_epochs;  // nullopt: unlimited
  bool shuffle = true;
  int64_t seed = 0;
  int64_t capacity = 32;
  std::string shared_name;
};

// `strings`: a string vector (a literal list or an Output). Returns the
// queue handle.
Output StringInputProducer(const Scope& scope, const Input& strings,
                           InputProducerOptions options = {});

struct TFRecordReaderOpOptions {
  // Recorded as TensorFlow's compression_type attr ("", "ZLIB", "GZIP"); a
  // graph whose attr holds any other string fails when the reader runs
  // (InvalidArgument naming it), never reads as uncompressed.
  Compression compression = Compression::kNone;
};
Output TFRecordReader(const Scope& scope, TFRecordReaderOpOptions options = {});

struct ReaderOutputs {
  Output key;    // "FILE:OFFSET"
  Output value;  // the serialized record
};
// Scalars.
ReaderOutputs ReaderRead(const Scope& scope, const Output& reader, const Output& queue);
// Vectors of 1..n records (never spanning two files).
ReaderOutputs ReaderReadUpTo(const Scope& scope, const Output& reader, const Output& queue,
                             const Input& n);

}  // namespace sluice::ops
