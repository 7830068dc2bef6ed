#pragma once
// 16-bit PCM WAV encoding (TensorFlow's wav_io EncodeAudioAsS16LEWav), for
// audio summaries. Layout, all little-endian:
//   "RIFF" u32(36 + data) "WAVE"
//   "fmt " u32(16) u16(1 = PCM) u16(channels) u32(sample_rate)
//          u32(sample_rate * channels * 2) u16(channels * 2) u16(16)
//   "data" u32(data = frames * channels * 2) then interleaved s16 samples
// Each float sample x becomes clamp(round(x * 32768), -32768, 32767).
// Thread-safe.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace sluice {

// `samples` holds frames * channels floats, frame-major (channels
// interleaved). InvalidArgument for zero channels or a sample_rate of 0,
// or sizes that overflow the 32-bit RIFF fields.
absl::StatusOr<std::string> EncodeWavS16(const float* samples, int64_t frames,
                                         int64_t channels,
                                         uint32_t sample_rate);

}  // namespace sluice
