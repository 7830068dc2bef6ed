#include "train/internal/summaries.h"

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

#include "graph/png_encoder.h"

namespace sluice::train::internal {

void WriteStepSummary(FileWriter* events, float loss, double prefetch_fill,
                      int prefetch_depth, int64_t global_step) {
  SummaryBuilder sb;
  sb.AddScalar("loss", loss);
  sb.AddScalar(absl::StrCat("queue/device_prefetch/fraction_of_",
                            prefetch_depth, "_full"),
               static_cast<float>(prefetch_fill));
  (void)events->AddSummary(sb.bytes(), global_step);
}

void WriteInputImages(FileWriter* events, const Tensor& images, int64_t height,
                      int64_t width) {
  SummaryBuilder sb;
  for (int i = 0; i < 3 && i < images.dim(0); ++i) {
    auto png = EncodePng(
        absl::Span<const uint8_t>(images.data<uint8_t>() + i * height * width,
                                  height * width),
        height, width, 1);
    if (png.ok())
      sb.AddImage(absl::StrCat("input/image/", i), height, width, 1, *png);
  }
  (void)events->AddSummary(sb.bytes(), 0);
}

absl::Status WriteEpochSummary(FileWriter* events, Session* session,
                               const std::vector<Variable>& weights,
                               const EpochStats& es,
                               const PipelineMetrics& metrics, int64_t step) {
  SummaryBuilder sb;
  if (es.test_accuracy >= 0) sb.AddScalar("accuracy", es.test_accuracy);
  sb.AddScalar("samples_per_second", es.samples_per_second);
  sb.AddScalar("input_wait_fraction", es.input_wait_fraction);
  for (const StageSnapshot& st : metrics.Snapshot()) {
    if (st.threads < 1 || st.wall_ns <= 0) continue;
    const double total = static_cast<double>(st.wall_ns) * st.threads;
    sb.AddScalar(absl::StrCat("pipeline/", st.name, "/busy_fraction"),
                 st.busy_ns / total);
    sb.AddScalar(absl::StrCat("pipeline/", st.name, "/input_wait_fraction"),
                 st.input_wait_ns / total);
  }
  std::vector<Output> wf;
  for (const Variable& v : weights) wf.push_back(v.value());
  std::vector<Tensor> wv;
  SLUICE_RETURN_IF_ERROR(session->Run({}, wf, &wv));
  for (size_t i = 0; i < wv.size(); ++i) {
    std::vector<double> vals(wv[i].flat<float>().begin(),
                             wv[i].flat<float>().end());
    (void)sb.AddHistogram(weights[i].op_name(), vals);
  }
  SLUICE_RETURN_IF_ERROR(events->AddSummary(sb.bytes(), step));
  return events->Flush();
}

}  // namespace sluice::train::internal
