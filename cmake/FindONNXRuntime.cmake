# FindONNXRuntime: locates the ONNX Runtime C/C++ SDK and defines onnxruntime::onnxruntime.
# Search order (first hit wins):
#   1. ONNXRUNTIME_ROOT (CMake cache variable or environment variable): <root>/include[/onnxruntime], <root>/lib
#   2. an installed CMake package (find_package(onnxruntime CONFIG)), e.g. Homebrew or a distro package
#   3. pkg-config module libonnxruntime (Debian trixie's libonnxruntime-dev)
#   4. default system paths
#   5. third_party/onnxruntime, where scripts/get_onnxruntime.sh puts it
# The official release tarball's own onnxruntimeConfig.cmake points at wrong folders upstream, so a
# tarball is best given through ONNXRUNTIME_ROOT.
include(FindPackageHandleStandardArgs)
if(TARGET onnxruntime::onnxruntime)
  set(ONNXRuntime_FOUND TRUE)
  return()
endif()

set(_ort_root "${ONNXRUNTIME_ROOT}")
if(NOT _ort_root AND DEFINED ENV{ONNXRUNTIME_ROOT})
  set(_ort_root "$ENV{ONNXRUNTIME_ROOT}")
endif()

if(NOT _ort_root)
  find_package(onnxruntime CONFIG QUIET)
  if(TARGET onnxruntime::onnxruntime)
    set(ONNXRuntime_FOUND TRUE)
    message(STATUS "ONNX Runtime: CMake package ${onnxruntime_DIR}")
    return()
  endif()
  find_package(PkgConfig QUIET)
  if(PKG_CONFIG_FOUND)
    pkg_check_modules(_ORT_PC QUIET libonnxruntime)
  endif()
endif()

set(_hints)
if(_ort_root)
  list(APPEND _hints "${_ort_root}")
  set(_ort_mode NO_DEFAULT_PATH)
else()
  set(_ort_mode)
endif()
find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h
  HINTS ${_hints} ${_ORT_PC_INCLUDE_DIRS}
  PATH_SUFFIXES include/onnxruntime include onnxruntime
  ${_ort_mode})
find_library(ONNXRUNTIME_LIBRARY NAMES onnxruntime
  HINTS ${_hints} ${_ORT_PC_LIBRARY_DIRS}
  PATH_SUFFIXES lib lib64
  ${_ort_mode})
if(NOT _ort_root AND (NOT ONNXRUNTIME_INCLUDE_DIR OR NOT ONNXRUNTIME_LIBRARY))
  set(_tp "${PROJECT_SOURCE_DIR}/third_party/onnxruntime")
  find_path(ONNXRUNTIME_INCLUDE_DIR onnxruntime_cxx_api.h PATHS "${_tp}/include/onnxruntime" NO_DEFAULT_PATH)
  find_library(ONNXRUNTIME_LIBRARY NAMES onnxruntime PATHS "${_tp}/lib" NO_DEFAULT_PATH)
endif()

find_package_handle_standard_args(ONNXRuntime
  REQUIRED_VARS ONNXRUNTIME_LIBRARY ONNXRUNTIME_INCLUDE_DIR
  REASON_FAILURE_MESSAGE "set -DONNXRUNTIME_ROOT=<prefix>, install libonnxruntime-dev, or run scripts/get_onnxruntime.sh")
if(ONNXRuntime_FOUND)
  add_library(onnxruntime::onnxruntime SHARED IMPORTED)
  set_target_properties(onnxruntime::onnxruntime PROPERTIES
    IMPORTED_LOCATION "${ONNXRUNTIME_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${ONNXRUNTIME_INCLUDE_DIR}")
  message(STATUS "ONNX Runtime: ${ONNXRUNTIME_LIBRARY}")
endif()
