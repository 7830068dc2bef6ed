#include "pipeline/stage_metrics.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace sluice {
namespace {

using ::testing::HasSubstr;

TEST(StageMetricsTest, PhaseClockAttributesTimeToPhasesAndScopedPhaseNests) {
  PipelineMetrics pm;
  StageMetrics* s = pm.Stage("parse");
  EXPECT_EQ(pm.Stage("parse"), s);  // created once
  {
    PhaseClock clock(s);
    clock.Switch(StagePhase::kBusy);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    {
      ScopedPhase wait(StagePhase::kInputWait);  // through PhaseClock::Current()
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_EQ(clock.phase(), StagePhase::kBusy);
    clock.Switch(StagePhase::kOutputWait);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    s->AddItems(128, 1000);
  }
  EXPECT_EQ(PhaseClock::Current(), nullptr);
  StageSnapshot snap = s->Snapshot();
  EXPECT_EQ(snap.threads, 1);
  EXPECT_GE(snap.busy_ns, 20'000'000);
  EXPECT_GE(snap.input_wait_ns, 20'000'000);
  EXPECT_GE(snap.output_wait_ns, 20'000'000);
  EXPECT_EQ(snap.items, 128);
  EXPECT_EQ(snap.bytes, 1000);
  const std::string line = s->SummaryLine();
  EXPECT_THAT(line, HasSubstr("parse: "));
  EXPECT_THAT(line, HasSubstr("% busy"));
  EXPECT_THAT(line, HasSubstr("% waiting for input"));
  EXPECT_THAT(line, HasSubstr("128 items (1 thread)"));
  pm.Stage("batch");
  EXPECT_THAT(pm.Report(), HasSubstr("\nbatch: "));
}

TEST(StageMetricsTest, ScopedPhaseWithoutAClockDoesNothing) {
  ScopedPhase p(StagePhase::kInputWait);
  EXPECT_EQ(PhaseClock::Current(), nullptr);
  PhaseClock null_clock(nullptr);
  null_clock.Switch(StagePhase::kBusy);  // no metrics: no-op
  EXPECT_EQ(PhaseClock::Current(), nullptr);
}

}  // namespace
}  // namespace sluice
