#include "distributed/variable_sync.h"

#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"
#include "core/sha256.h"

namespace sluice::distributed {

absl::Status BroadcastVariables(World* world, Session* session, const std::vector<Variable>& vars) {
  if (world->size() == 1) return absl::OkStatus();
  std::vector<Tensor> values;
  int64_t bytes = 0;
  for (const Variable& v : vars) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session->ReadVariable(v));
    if (t.dtype() == DType::kString) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot broadcast string variable '", v.op_name(), "'"));
    }
    bytes += static_cast<int64_t>(t.ByteSize());
    values.push_back(std::move(t));
  }
  // Every rank must agree on the size, or the broadcast would mismatch.
  int64_t sizes[2] = {bytes, world->rank() == 0 ? bytes : 0};
  SLUICE_RETURN_IF_ERROR(world->AllreduceSum(sizes, 2, "variable sizes"));
  if (sizes[0] != sizes[1] * world->size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "rank ", world->rank(), " has ", bytes, " bytes of variables, rank 0 has ", sizes[1],
        " (different graphs on different ranks?)"));
  }
  std::vector<char> buf(bytes);
  int64_t off = 0;
  for (const Tensor& t : values) {
    std::memcpy(buf.data() + off, t.raw_data(), t.ByteSize());
    off += t.ByteSize();
  }
  SLUICE_RETURN_IF_ERROR(world->Broadcast(buf.data(), bytes, "variable broadcast"));
  if (world->rank() == 0) return absl::OkStatus();
  off = 0;
  for (size_t i = 0; i < vars.size(); ++i) {
    Tensor t(values[i].dtype(), values[i].shape());
    std::memcpy(t.raw_data(), buf.data() + off, t.ByteSize());
    off += t.ByteSize();
    SLUICE_RETURN_IF_ERROR(session->AssignVariable(vars[i], t));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> VariablesSha256(Session* session, const std::vector<Variable>& vars) {
  Sha256 h;
  for (const Variable& v : vars) {
    SLUICE_ASSIGN_OR_RETURN(Tensor t, session->ReadVariable(v));
    h.Update(std::string_view(static_cast<const char*>(t.raw_data()), t.ByteSize()));
  }
  return h.HexDigest();
}

}  // namespace sluice::distributed
