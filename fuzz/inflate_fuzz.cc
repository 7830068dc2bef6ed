// libFuzzer target: the streaming inflaters (ISA-L igzip and zlib) on
// arbitrary bytes, read through small and odd-sized output buffers. Both
// must end in a clear status; when both read a stream cleanly their bytes
// must be identical.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "readers/internal/byte_source.h"
#include "readers/internal/inflate_source.h"

namespace {

constexpr size_t kMaxOut = 8 << 20;  // bombs stop here

struct Out {
  std::string bytes;
  absl::Status status;  // OK means a clean end
};

Out Inflate(std::string_view in, sluice::Compression c, sluice::Inflater inf, size_t in_block,
            size_t out_step) {
  auto src = sluice::internal::NewInflateSource(sluice::internal::NewMemorySource(in), c, inf,
                                                in_block, "fuzz");
  Out out;
  std::string buf(out_step, '\0');
  for (int calls = 0; out.bytes.size() < kMaxOut; ++calls) {
    if (calls > (1 << 24)) std::abort();  // no spinning
    auto n = src->Read(buf.data(), buf.size());
    if (!n.ok()) {
      out.status = n.status();
      if (!absl::IsDataLoss(out.status)) std::abort();
      return out;
    }
    if (*n == 0) return out;
    if (*n > buf.size()) std::abort();
    out.bytes.append(buf.data(), *n);
  }
  out.status = absl::ResourceExhaustedError("output bound");
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t a = data[0];
  const std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto c = a % 2 ? sluice::Compression::kZlib : sluice::Compression::kGzip;
  static constexpr size_t kSteps[] = {1, 3, 64, 4096, 100000};
  const size_t step = kSteps[(a / 2) % 5];
  const size_t block = (a / 10) % 2 ? 1024 : 65536;
  Out isal = Inflate(in, c, sluice::Inflater::kIsal, block, step);
  Out zlib = Inflate(in, c, sluice::Inflater::kZlib, block, step);
  if (isal.status.ok() && zlib.status.ok() && isal.bytes != zlib.bytes) {
    std::fprintf(stderr, "isal and zlib disagree on a valid stream\n");
    std::abort();
  }
  return 0;
}
