# Finds moodycamel::ConcurrentQueue (Debian: libconcurrentqueue-dev), which ships
# headers only and no CMake config. Defines the imported target
# ConcurrentQueue::ConcurrentQueue whose include path is the package's
# concurrentqueue/ folder, so sources write #include "blockingconcurrentqueue.h".
find_path(ConcurrentQueue_INCLUDE_DIR
  NAMES blockingconcurrentqueue.h
  PATH_SUFFIXES concurrentqueue concurrentqueue/moodycamel)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(ConcurrentQueue REQUIRED_VARS ConcurrentQueue_INCLUDE_DIR)
if(ConcurrentQueue_FOUND AND NOT TARGET ConcurrentQueue::ConcurrentQueue)
  add_library(ConcurrentQueue::ConcurrentQueue INTERFACE IMPORTED)
  set_target_properties(ConcurrentQueue::ConcurrentQueue PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ConcurrentQueue_INCLUDE_DIR}")
endif()
