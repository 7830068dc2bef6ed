# The installed package: sluice::sluice (every installed area), the CMake
# package config (find_package(sluice CONFIG)) with the Find modules of the
# dependencies that ship no config of their own, and sluice.pc. Included
# from the root CMakeLists.txt after every area has been added, so an area
# added later is in sluice::sluice and sluice.pc without an edit here.
include(CMakePackageConfigHelpers)
set(SLUICE_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/sluice")

get_property(_areas GLOBAL PROPERTY SLUICE_INSTALLED_AREAS)
add_library(sluice_sluice INTERFACE)
add_library(sluice::sluice ALIAS sluice_sluice)
set_target_properties(sluice_sluice PROPERTIES EXPORT_NAME sluice)
foreach(area IN LISTS _areas)
  target_link_libraries(sluice_sluice INTERFACE sluice_${area})
endforeach()
install(TARGETS sluice_sluice EXPORT sluiceTargets)

# find_dependency lines for the config: what the exported targets link.
set(SLUICE_CONFIG_DEPENDENCIES "")
if(TARGET ISAL::ISAL)
  string(APPEND SLUICE_CONFIG_DEPENDENCIES "find_dependency(ISAL)\n")
endif()
if(SLUICE_HAVE_CUDA)
  string(APPEND SLUICE_CONFIG_DEPENDENCIES "find_dependency(CUDAToolkit)\n")
endif()
set(_with_tf_formats OFF)
if("graph" IN_LIST _areas)  # TensorFlow's file formats
  set(_with_tf_formats ON)
  string(APPEND SLUICE_CONFIG_DEPENDENCIES "find_dependency(Protobuf)\nfind_dependency(leveldb CONFIG)\n")
endif()
if("image" IN_LIST _areas)  # libturbojpeg, libjpeg (pkg-config only) and libpng
  string(APPEND SLUICE_CONFIG_DEPENDENCIES "find_dependency(PNG)\nfind_dependency(PkgConfig)\n"
         "pkg_check_modules(TURBOJPEG REQUIRED IMPORTED_TARGET libturbojpeg)\n"
         "pkg_check_modules(LIBJPEG REQUIRED IMPORTED_TARGET libjpeg)\n")
endif()
if("distributed" IN_LIST _areas)  # Open MPI (the static archives link MPI::MPI_C)
  # FindMPI's C component needs the C language, which a C++ user's project
  # may not have enabled.
  string(APPEND SLUICE_CONFIG_DEPENDENCIES
    "get_property(_sluice_langs GLOBAL PROPERTY ENABLED_LANGUAGES)\n"
    "if(NOT \"C\" IN_LIST _sluice_langs)\n  enable_language(C)\nendif()\n"
    "find_dependency(MPI COMPONENTS C)\n")
  find_package(MPI REQUIRED COMPONENTS C)
endif()

install(EXPORT sluiceTargets NAMESPACE sluice:: DESTINATION "${SLUICE_CMAKE_DIR}")
configure_package_config_file(cmake/sluiceConfig.cmake.in
  "${PROJECT_BINARY_DIR}/sluiceConfig.cmake" INSTALL_DESTINATION "${SLUICE_CMAKE_DIR}")
# 0.x: a minor release may break the API, so only the same minor matches.
write_basic_package_version_file("${PROJECT_BINARY_DIR}/sluiceConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/sluiceConfig.cmake"
              "${PROJECT_BINARY_DIR}/sluiceConfigVersion.cmake"
              cmake/FindConcurrentQueue.cmake cmake/FindISAL.cmake
        DESTINATION "${SLUICE_CMAKE_DIR}")

# sluice.pc: libraries from the top layer down (the static link order), and
# the pkg-config names of their dependencies.
set(_pc_libs "")
foreach(area IN ITEMS cli train distributed graph_cuda graph pipeline kernels_cuda kernels readers
                      images image coordinator device queues core)
  if(area IN_LIST _areas)
    string(APPEND _pc_libs " -lsluice_${area}")
    list(REMOVE_ITEM _areas ${area})
  endif()
endforeach()
if(_areas)  # an area this list does not know yet: before the base layers
  list(JOIN _areas " -lsluice_" _rest)
  string(PREPEND _pc_libs " -lsluice_${_rest}")
endif()
set(SLUICE_PC_LIBS "${_pc_libs}")
set(SLUICE_PC_LIBS_PRIVATE "")
if(TARGET ISAL::ISAL)
  string(APPEND SLUICE_PC_LIBS_PRIVATE " -lisal")
endif()
if(_with_tf_formats)
  string(APPEND SLUICE_PC_LIBS_PRIVATE " -lprotobuf -lleveldb")
endif()
if(TARGET sluice_image)
  string(APPEND SLUICE_PC_LIBS_PRIVATE " -lturbojpeg -ljpeg -lpng16")
endif()
if(MPI_C_FOUND)
  foreach(_lib IN LISTS MPI_C_LIBRARIES)
    string(APPEND SLUICE_PC_LIBS_PRIVATE " ${_lib}")
  endforeach()
endif()
if(SLUICE_HAVE_CUDA)
  string(APPEND SLUICE_PC_LIBS_PRIVATE " -L${CUDAToolkit_LIBRARY_DIR} -lcublas -lcudart")
endif()
if(NOT BUILD_SHARED_LIBS)  # static archives: their dependencies go on every link
  string(APPEND SLUICE_PC_LIBS "${SLUICE_PC_LIBS_PRIVATE} -pthread")
  set(SLUICE_PC_LIBS_PRIVATE "")
endif()
set(SLUICE_PC_CFLAGS "")
if(SLUICE_HAVE_CUDA)
  set(SLUICE_PC_CFLAGS " -DSLUICE_HAVE_CUDA=1 -I${CUDAToolkit_INCLUDE_DIRS}")
endif()
# Relocatable: the prefix is found from the .pc file's own folder, so
# `cmake --install --prefix P` gives a sluice.pc that points into P.
string(REGEX REPLACE "[^/]+" ".." SLUICE_PC_UP "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
configure_file(cmake/sluice.pc.in "${PROJECT_BINARY_DIR}/sluice.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/sluice.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
