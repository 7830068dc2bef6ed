#include "graph/wav_encoder.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"

namespace sluice {
namespace {

void PutU16(std::string* out, uint16_t v) {
  out->push_back(static_cast<char>(v & 0xff));
  out->push_back(static_cast<char>(v >> 8));
}
void PutU32(std::string* out, uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace

absl::StatusOr<std::string> EncodeWavS16(const float* samples, int64_t frames,
                                         int64_t channels,
                                         uint32_t sample_rate) {
  if (channels <= 0 || channels > 0xffff || frames < 0 || sample_rate == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("WAV: bad channels ", channels, ", frames ", frames,
                     " or sample rate ", sample_rate));
  }
  const uint64_t data = static_cast<uint64_t>(frames) * channels * 2;
  const uint64_t byte_rate = static_cast<uint64_t>(sample_rate) * channels * 2;
  if (data + 36 > std::numeric_limits<uint32_t>::max() ||
      byte_rate > std::numeric_limits<uint32_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat("WAV: ", frames, " frames of ", channels,
                     " channels exceed the 32-bit RIFF sizes"));
  }
  std::string out;
  out.reserve(44 + data);
  out.append("RIFF");
  PutU32(&out, static_cast<uint32_t>(36 + data));
  out.append("WAVEfmt ");
  PutU32(&out, 16);
  PutU16(&out, 1);
  PutU16(&out, static_cast<uint16_t>(channels));
  PutU32(&out, sample_rate);
  PutU32(&out, static_cast<uint32_t>(byte_rate));
  PutU16(&out, static_cast<uint16_t>(channels * 2));
  PutU16(&out, 16);
  out.append("data");
  PutU32(&out, static_cast<uint32_t>(data));
  for (int64_t i = 0; i < frames * channels; ++i) {
    const float v = std::min(
        std::max(std::round(samples[i] * 32768.0f), -32768.0f), 32767.0f);
    PutU16(&out, static_cast<uint16_t>(static_cast<int16_t>(v)));
  }
  return out;
}

}  // namespace sluice
