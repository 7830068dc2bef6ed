// The training job's printed lines (train/internal/progress.h): the
// figures `sluice train` prints, to the digit.

#include "train/internal/progress.h"

#include "gtest/gtest.h"

namespace sluice::train::internal {
namespace {

TEST(CompactTest, ThousandsAndMillionsGetASuffix) {
  EXPECT_EQ(Compact(0), "0");
  EXPECT_EQ(Compact(812.4), "812");
  EXPECT_EQ(Compact(999), "999");
  EXPECT_EQ(Compact(1000), "1.0k");
  EXPECT_EQ(Compact(41234), "41.2k");
  EXPECT_EQ(Compact(1e6), "1.00M");
  EXPECT_EQ(Compact(2.5e6), "2.50M");
}

TEST(StagesLineTest, StagesThatHaveNotStartedAreLeftOut) {
  PipelineMetrics m;
  m.Stage("read");
  m.Stage("parse");
  EXPECT_EQ(StagesLine(m), "");
}

TEST(ProgressLineTest, SaysStepLossRateAndInputWait) {
  PipelineMetrics m;
  // Epoch 2 of 10 (0-based 1): 100 steps of batch 128 in 2 s, 0.1 s waiting.
  EXPECT_EQ(ProgressLine(1, 10, 100, 468, 128, 0.5, 2.0, 0.1, m),
            "epoch 2/10 step 100/468 loss 0.5000 | 6.4k samples/s | input wait "
            "5.0%\n");
}

TEST(EpochDoneLineTest, SaysLossAccuracyRateWaitAndSeconds) {
  PipelineMetrics m;
  EpochStats es;
  es.epoch = 2;
  es.mean_loss = 0.37123;
  es.test_accuracy = 0.8563;
  es.samples_per_second = 31900;
  es.input_wait_fraction = 0.007;
  es.seconds = 1.94;
  EXPECT_EQ(EpochDoneLine(10, es, m),
            "epoch 2/10 done: loss 0.3712, test accuracy 0.8563, 31.9k "
            "samples/s, input wait "
            "0.7%, 1.9s\n");
}

TEST(CaptureLineTest, SaysReplaysAndWhyRecordingStopped) {
  CaptureStats cs;
  cs.captures = 3;
  cs.replays = 930;
  EXPECT_EQ(CaptureLine(cs, 936, 20),
            "step capture: 930 of 936 training steps and 20 evaluation batches "
            "replayed a "
            "recorded CUDA graph (3 recordings)\n");
  cs.failures = 1;
  cs.last_failure = "feed shape changed";
  EXPECT_EQ(
      CaptureLine(cs, 936, 20),
      "step capture: 930 of 936 training steps and 20 evaluation batches "
      "replayed a "
      "recorded CUDA graph (3 recordings; stopped: feed shape changed)\n");
}

}  // namespace
}  // namespace sluice::train::internal
