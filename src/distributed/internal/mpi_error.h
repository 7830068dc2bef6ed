#ifndef SLUICE_DISTRIBUTED_INTERNAL_MPI_ERROR_H_
#define SLUICE_DISTRIBUTED_INTERNAL_MPI_ERROR_H_

#include <mpi.h>

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/absl_compat.h"

namespace sluice::distributed::internal {

// An MPI return code `code` (not MPI_SUCCESS) from the call described by
// `what` as an Internal status carrying MPI's own error text.
inline absl::Status MpiError(int code, std::string_view what) {
  char msg[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(code, msg, &len);
  return absl::InternalError(
      absl::StrCat("MPI error in ", Sv(what), ": ", std::string(msg, len)));
}

}  // namespace sluice::distributed::internal

#endif  // SLUICE_DISTRIBUTED_INTERNAL_MPI_ERROR_H_
