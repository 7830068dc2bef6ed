#include "cli/inspect_checkpoint.h"

#include <sys/stat.h>

#include <cmath>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/inspect.h"
#include "core/absl_compat.h"
#include "core/sha256.h"
#include "graph/checkpoint.h"

namespace sluice::cli {
namespace {

constexpr int64_t kMaxListedValues = 16;

struct VariableReport {
  CheckpointTensorInfo info;
  std::string sha256;
  std::vector<std::string> values;  // JSON literals; empty when not listed
};

// numpy's spelling, as the corpus's expected.json files use it.
std::string DTypeJsonName(DType d) {
  switch (d) {
    case DType::kFloat32: return "float32";
    case DType::kFloat64: return "float64";
    default: return std::string(DTypeName(d));
  }
}

template <typename T>
std::string Number(T v) {
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(v)) return std::isnan(v) ? "\"nan\"" : (v > 0 ? "\"inf\"" : "\"-inf\"");
    return absl::StrFormat(sizeof(T) == 4 ? "%.9g" : "%.17g", static_cast<double>(v));
  } else {
    return absl::StrCat(static_cast<int64_t>(v));
  }
}

// SHA-256 of the tensor's raw little-endian bytes, and its values.
void Describe(const Tensor& t, VariableReport* r) {
  Sha256 h;
  if (t.dtype() == DType::kString) {
    for (int64_t i = 0; i < t.NumElements(); ++i) {
      std::string_view s = t.string(i);
      char len[8];
      for (int b = 0; b < 8; ++b) len[b] = static_cast<char>(static_cast<uint64_t>(s.size()) >> (8 * b));
      h.Update(std::string_view(len, 8));
      h.Update(s);
    }
  } else {
    h.Update(std::string_view(static_cast<const char*>(t.raw_data()), t.ByteSize()));
  }
  r->sha256 = h.HexDigest();
  if (t.NumElements() > kMaxListedValues) return;
  for (int64_t i = 0; i < t.NumElements(); ++i) {
    switch (t.dtype()) {
      case DType::kFloat32: r->values.push_back(Number(t.data<float>()[i])); break;
      case DType::kFloat64: r->values.push_back(Number(t.data<double>()[i])); break;
      case DType::kInt32: r->values.push_back(Number(t.data<int32_t>()[i])); break;
      case DType::kInt64: r->values.push_back(Number(t.data<int64_t>()[i])); break;
      case DType::kUInt8: r->values.push_back(Number(t.data<uint8_t>()[i])); break;
      case DType::kBool: r->values.push_back(t.data<bool>()[i] ? "true" : "false"); break;
      case DType::kString: r->values.push_back(JsonString(t.string(i))); break;
      default: r->values.push_back("null"); break;
    }
  }
}

std::string ShapeJson(const TensorShape& s) {
  std::string out = "[";
  for (int i = 0; i < s.rank(); ++i) absl::StrAppend(&out, i ? "," : "", s.dim(i));
  return out + "]";
}

}  // namespace

bool IsCheckpointPrefix(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) return false;
  return ::stat(CheckpointIndexPath(path).c_str(), &st) == 0;
}

int InspectCheckpoint(const std::string& prefix, bool json, std::ostream& out) {
  std::vector<VariableReport> vars;
  absl::Status error;
  CheckpointFormat format = CheckpointFormat::kTensorBundleV2;
  auto reader = CheckpointReader::Open(prefix);
  if (!reader.ok()) {
    error = reader.status();
  } else {
    format = (*reader)->format();
    for (const CheckpointTensorInfo& info : (*reader)->tensors()) {
      auto t = (*reader)->Read(info.name);
      if (!t.ok()) {
        error = t.status();
        break;
      }
      VariableReport& r = vars.emplace_back();
      r.info = info;
      Describe(*t, &r);
    }
  }
  const char* format_name = format == CheckpointFormat::kSluiceV1 ? "sluice_v1" : "tensor_bundle_v2";
  if (json) {
    std::string line = absl::StrCat("{\"checkpoint\":", JsonString(prefix), ",\"format\":\"",
                                    reader.ok() ? format_name : "unknown", "\",\"variables\":[");
    for (size_t i = 0; i < vars.size(); ++i) {
      const VariableReport& v = vars[i];
      absl::StrAppend(&line, i ? "," : "", "{\"name\":", JsonString(v.info.name), ",\"dtype\":\"",
                      DTypeJsonName(v.info.dtype), "\",\"shape\":", ShapeJson(v.info.shape),
                      ",\"bytes\":", v.info.size, ",\"sha256\":\"", v.sha256, "\",\"crc_ok\":true,\"values\":");
      if (v.info.shape.num_elements() > kMaxListedValues) {
        line += "null";
      } else {
        line += "[";
        for (size_t k = 0; k < v.values.size(); ++k) absl::StrAppend(&line, k ? "," : "", v.values[k]);
        line += "]";
      }
      line += "}";
    }
    line += "],\"error\":";
    if (error.ok()) {
      line += "null";
    } else {
      absl::StrAppend(&line, "{\"code\":\"", absl::StatusCodeToString(error.code()),
                      "\",\"message\":", JsonString(Sv(error.message())), "}");
    }
    out << line << "}\n" << std::flush;
  } else {
    out << prefix << "\n  format       " << format_name << ", " << vars.size() << " variables\n";
    for (const VariableReport& v : vars) {
      std::string values;
      for (size_t k = 0; k < v.values.size(); ++k) absl::StrAppend(&values, k ? " " : "", v.values[k]);
      out << absl::StrFormat("  %-24s %-8s %-14s %10d B  sha256 %s%s\n", v.info.name, DTypeJsonName(v.info.dtype),
                             v.info.shape.DebugString(), v.info.size, v.sha256,
                             values.empty() ? "" : absl::StrCat("  [", values, "]"));
    }
    if (!error.ok()) {
      out << "  status       " << absl::StatusCodeToString(error.code()) << ": " << error.message() << "\n";
    }
    out << std::flush;
  }
  return error.ok() ? 0 : 1;
}

}  // namespace sluice::cli
