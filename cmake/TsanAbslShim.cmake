# sluice_tsan_absl_shim(target): in ThreadSanitizer builds, links the
# absl::Mutex shim into a test binary (see tests/support/tsan_absl_mutex_shim.cc).
# ThreadSanitizer: the system abseil is not instrumented, so absl::Mutex
# (used by the queues) is invisible to TSan and guarded accesses look like
# races. tsan_absl_mutex_shim.cc wraps its entry points to report the
# happens-before edges (see the file).
function(sluice_tsan_absl_shim target)
  if(NOT SLUICE_SANITIZE STREQUAL "thread")
    return()
  endif()
  get_target_property(_absl_inc absl::base INTERFACE_INCLUDE_DIRECTORIES)
  find_file(_absl_options absl/base/options.h PATHS ${_absl_inc} /usr/include NO_DEFAULT_PATH)
  file(STRINGS "${_absl_options}" _absl_ns_line
       REGEX "^#define ABSL_OPTION_INLINE_NAMESPACE_NAME ")
  string(REGEX REPLACE "^#define ABSL_OPTION_INLINE_NAMESPACE_NAME +([A-Za-z0-9_]+).*" "\\1"
         _absl_ns "${_absl_ns_line}")
  string(LENGTH "${_absl_ns}" _absl_ns_len)
  set(_prefix "_ZN4absl${_absl_ns_len}${_absl_ns}")
  set(_wrapped
    5Mutex4LockEv 5Mutex6UnlockEv 5Mutex7TryLockEv 5Mutex10ReaderLockEv
    5Mutex12ReaderUnlockEv 5Mutex13ReaderTryLockEv 5Mutex5AwaitERKNS0_9ConditionE
    5Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE
    5Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE
    5Mutex8LockWhenERKNS0_9ConditionE
    5Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE
    5Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE
    5Mutex14ReaderLockWhenERKNS0_9ConditionE
    5Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE
    5Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE
    7CondVar4WaitEPNS0_5MutexE
    7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE
    7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE)
  set(_wrap_flags "")
  foreach(sym IN LISTS _wrapped)
    list(APPEND _wrap_flags "LINKER:--wrap=${_prefix}${sym}")
  endforeach()
  set(_shim "${PROJECT_SOURCE_DIR}/tests/support/tsan_absl_mutex_shim.cc")
  target_sources(${target} PRIVATE ${_shim})
  set_source_files_properties(${_shim} TARGET_DIRECTORY ${target} PROPERTIES COMPILE_DEFINITIONS
    "SLUICE_ABSL_NS=${_absl_ns};SLUICE_ABSL_NS_LEN=${_absl_ns_len}")
  target_link_options(${target} PRIVATE ${_wrap_flags})
endfunction()
