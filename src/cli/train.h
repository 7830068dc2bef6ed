#pragma once
// `sluice train [--model mlp|softmax|cnn] [--device auto|cpu|gpu]
//               [--epochs N] [--batch-size N] [--seed N] [--deterministic]
//               [--optimizer sgd|momentum|nesterov|adam] [--lr X]
//               [--data DIR] [--idx-dir DIR] [--logdir DIR]
//               [--resume] [--max-steps N] [--json] [--quiet]
//               [--log-device-placement]`
//
// Trains a model on Fashion-MNIST (train/trainer.h). The data comes from
// DIR (--data, default $SLUICE_CACHE_DIR or ~/.cache/sluice/fashion-mnist):
// TFRecord shards written by `sluice convert idx` with prefixes "train" and
// "test". When DIR holds no finished conversion, the IDX files of --idx-dir
// (default /usr/share/datasets/fashion-mnist, the Debian package
// dataset-fashion-mnist) are converted into it once.
//
// Output: progress lines (samples/s, where the pipeline waits), the test
// accuracy after each epoch; with --json, a last line
// {"model","device","epochs","test_accuracy","samples_per_second","input_wait_fraction",
//  "rank","world_size","records_seen","params_sha256"}.
// Exit status: 0 on success, 1 on a data or training error, 2 for a usage
// error.

#include <ostream>

namespace sluice::cli {

int RunTrain(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace sluice::cli
