#pragma once
// A ByteSource that inflates a ZLIB or GZIP stream read from another
// ByteSource. Concatenated members (gzip) or streams (zlib) are read as one
// stream. Input is pulled in blocks of `input_buffer_size`; output goes
// straight into the caller's buffer, so no extra copy is made.
//
// Errors (DataLoss, naming `name`): an invalid deflate stream or wrapper, a
// checksum mismatch (gzip CRC-32 / ISIZE, zlib Adler-32), input that ends
// inside a member, and bytes after a member that do not start a new one.
// The output is not bounded here; RecordReader bounds it.
//
// Not thread-safe.

#include <memory>
#include <string>

#include "readers/compression.h"
#include "readers/internal/byte_source.h"

namespace sluice::internal {

// `compression` is kZlib or kGzip.
std::unique_ptr<ByteSource> NewInflateSource(std::unique_ptr<ByteSource> compressed,
                                             Compression compression, Inflater inflater,
                                             size_t input_buffer_size, std::string name);

}  // namespace sluice::internal
