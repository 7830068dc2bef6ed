// TensorFlow's V2 checkpoint index (tensor bundle): a LevelDB-format table
// built and read with LevelDB's own table code, whose entries are
// BundleHeaderProto (empty key) and BundleEntryProto (tensor names).
// See internal/checkpoint_format.h.

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/status.h"
#include "graph/internal/checkpoint_format.h"
#include "graph/internal/tf_types.h"
#include "graph/tf_format/proto/tensor_bundle.pb.h"
#include "leveldb/env.h"
#include "leveldb/iterator.h"
#include "leveldb/options.h"
#include "leveldb/table.h"
#include "leveldb/table_builder.h"

namespace sluice::internal {
namespace {

// TensorFlow's kTensorBundleVersion, kTensorBundleMinConsumer.
constexpr int kBundleVersion = 1;
constexpr int kBundleMinConsumer = 0;

// The table is built in memory; checkpoint.cc writes it atomically.
class StringSink : public leveldb::WritableFile {
 public:
  explicit StringSink(std::string* out) : out_(out) {}
  leveldb::Status Append(const leveldb::Slice& data) override {
    out_->append(data.data(), data.size());
    return leveldb::Status::OK();
  }
  leveldb::Status Close() override { return leveldb::Status::OK(); }
  leveldb::Status Flush() override { return leveldb::Status::OK(); }
  leveldb::Status Sync() override { return leveldb::Status::OK(); }

 private:
  std::string* out_;
};

// The index bytes, read by LevelDB's table reader; bounds-checked.
class StringSource : public leveldb::RandomAccessFile {
 public:
  explicit StringSource(std::string_view bytes) : bytes_(bytes) {}
  leveldb::Status Read(uint64_t offset, size_t n, leveldb::Slice* result, char* scratch) const override {
    if (offset > bytes_.size()) return leveldb::Status::IOError("read past the end of the index");
    n = std::min<uint64_t>(n, bytes_.size() - offset);
    *result = leveldb::Slice(bytes_.data() + offset, n);
    return leveldb::Status::OK();
  }

 private:
  std::string_view bytes_;
};

}  // namespace

absl::StatusOr<std::string> EncodeTensorBundleIndex(std::vector<CheckpointTensorInfo> entries,
                                                    int num_shards) {
  std::sort(entries.begin(), entries.end(),
            [](const CheckpointTensorInfo& a, const CheckpointTensorInfo& b) { return a.name < b.name; });
  std::string out;
  StringSink sink(&out);
  leveldb::Options options;  // Snappy-compressed blocks, TensorFlow's default
  leveldb::TableBuilder builder(options, &sink);

  tensorflow::BundleHeaderProto header;
  header.set_num_shards(num_shards);
  header.set_endianness(tensorflow::BundleHeaderProto::LITTLE);
  header.mutable_version()->set_producer(kBundleVersion);
  header.mutable_version()->set_min_consumer(kBundleMinConsumer);
  builder.Add("", header.SerializeAsString());

  tensorflow::BundleEntryProto proto;
  for (const CheckpointTensorInfo& e : entries) {
    if (e.name.empty()) return absl::InvalidArgumentError("checkpoint: empty tensor name");
    proto.Clear();
    const tensorflow::DataType dt = ToTfDataType(e.dtype);
    if (dt == tensorflow::DT_INVALID) {
      return absl::InvalidArgumentError(
          absl::StrCat("checkpoint: tensor '", e.name, "' has a dtype TensorFlow's format cannot hold"));
    }
    proto.set_dtype(dt);
    ToTfShape(e.shape, proto.mutable_shape());
    proto.set_shard_id(e.shard_id);
    proto.set_offset(static_cast<int64_t>(e.offset));
    proto.set_size(static_cast<int64_t>(e.size));
    proto.set_crc32c(e.masked_crc32c);
    builder.Add(e.name, proto.SerializeAsString());
  }
  leveldb::Status s = builder.Finish();
  if (!s.ok()) return absl::InternalError(absl::StrCat("checkpoint index table: ", s.ToString()));
  return out;
}

absl::StatusOr<CheckpointIndex> ParseTensorBundleIndex(std::string_view bytes, const std::string& path) {
  auto corrupt = [&](std::string_view why) {
    return absl::DataLossError(absl::StrCat("checkpoint index ", path, ": ", Sv(why)));
  };
  StringSource source(bytes);
  leveldb::Options options;
  options.paranoid_checks = true;  // verify the index block's checksum too
  leveldb::Table* raw = nullptr;
  leveldb::Status s = leveldb::Table::Open(options, &source, bytes.size(), &raw);
  if (!s.ok()) return corrupt(absl::StrCat("not a readable table (", s.ToString(), ")"));
  std::unique_ptr<leveldb::Table> table(raw);
  leveldb::ReadOptions read_options;
  read_options.verify_checksums = true;
  read_options.fill_cache = false;
  std::unique_ptr<leveldb::Iterator> it(table->NewIterator(read_options));

  CheckpointIndex out;
  out.format = CheckpointFormat::kTensorBundleV2;
  bool have_header = false;
  tensorflow::BundleEntryProto proto;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string key = it->key().ToString();
    const leveldb::Slice value = it->value();
    if (key.empty()) {
      tensorflow::BundleHeaderProto header;
      if (!header.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return corrupt("malformed BundleHeaderProto");
      }
      if (header.num_shards() < 1) return corrupt(absl::StrCat("num_shards is ", header.num_shards()));
      if (header.endianness() != tensorflow::BundleHeaderProto::LITTLE) {
        return absl::UnimplementedError(absl::StrCat("checkpoint index ", path, ": big-endian bundles"));
      }
      if (header.version().min_consumer() > kBundleVersion) {
        return absl::UnimplementedError(absl::StrCat("checkpoint index ", path, " needs a reader of version ",
                                                     header.version().min_consumer()));
      }
      out.num_shards = header.num_shards();
      have_header = true;
      continue;
    }
    if (!have_header) return corrupt("no header entry");
    if (!proto.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return corrupt(absl::StrCat("malformed BundleEntryProto for tensor '", key, "'"));
    }
    if (proto.slices_size() > 0) {
      return absl::UnimplementedError(absl::StrCat("checkpoint ", path, ": tensor '", key,
                                                   "' is partitioned (slices); sluice reads whole tensors"));
    }
    CheckpointTensorInfo e;
    e.name = key;
    auto dtype = FromTfDataType(proto.dtype(), absl::StrCat("checkpoint tensor '", key, "'"));
    if (!dtype.ok()) {
      return absl::UnimplementedError(absl::StrCat("checkpoint index ", path, ": ", dtype.status().message()));
    }
    e.dtype = *dtype;
    bool rank_known = true;
    auto shape = FromTfShape(proto.shape(), key, &rank_known);
    if (!shape.ok() || !rank_known || !shape->IsFullyDefined()) {
      return corrupt(absl::StrCat("tensor '", key, "' has no full shape"));
    }
    e.shape = *shape;
    if (proto.shard_id() < 0 || proto.shard_id() >= out.num_shards || proto.offset() < 0 || proto.size() < 0) {
      return corrupt(absl::StrCat("tensor '", key, "' has shard ", proto.shard_id(), " offset ", proto.offset(),
                                  " size ", proto.size()));
    }
    e.shard_id = proto.shard_id();
    e.offset = static_cast<uint64_t>(proto.offset());
    e.size = static_cast<uint64_t>(proto.size());
    e.masked_crc32c = proto.crc32c();
    out.entries.push_back(std::move(e));
  }
  if (!it->status().ok()) return corrupt(it->status().ToString());
  if (!have_header) return corrupt("no header entry");
  return out;
}

}  // namespace sluice::internal
