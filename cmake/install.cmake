# Install rules: headers, libvibevoice.so (+ symlinks) and libvibevoice.a, the `vibevoice` CLI, the CMake
# package (find_package(vibevoice) -> vibevoice::vibevoice (shared, C API) and vibevoice::vibevoice_static
# (C and C++ API)) and lib/pkgconfig/vibevoice.pc. ONNX Runtime is not installed: the installed .so and CLI
# find it through their RPATH ($ORIGIN/../lib, then the ONNX Runtime library directory of this build).
include(CMakePackageConfigHelpers)

# Directory of the ONNX Runtime library used here: in the RPATH of the installed .so and CLI, after
# $ORIGIN (resp. $ORIGIN/../lib, where a copied libonnxruntime.so.1 wins).
set(VV_ORT_LIBRARY "${ONNXRUNTIME_LIBRARY}")
if(NOT VV_ORT_LIBRARY)
  get_target_property(VV_ORT_LIBRARY onnxruntime::onnxruntime IMPORTED_LOCATION)
  get_target_property(_ort_configs onnxruntime::onnxruntime IMPORTED_CONFIGURATIONS)
  foreach(_config IN LISTS _ort_configs)
    if(NOT VV_ORT_LIBRARY)
      get_target_property(VV_ORT_LIBRARY onnxruntime::onnxruntime IMPORTED_LOCATION_${_config})
    endif()
  endforeach()
endif()
set(VV_ORT_LIBDIR "")
if(VV_ORT_LIBRARY)
  get_filename_component(VV_ORT_LIBDIR "${VV_ORT_LIBRARY}" DIRECTORY)
  get_filename_component(VV_ORT_LIBDIR "${VV_ORT_LIBDIR}" REALPATH)
endif()
set(VV_INSTALL_RPATH "$ORIGIN")
file(RELATIVE_PATH _bin_to_lib "/${CMAKE_INSTALL_BINDIR}" "/${CMAKE_INSTALL_LIBDIR}")
set(VV_INSTALL_RPATH_BIN "$ORIGIN/${_bin_to_lib}")
if(VV_ORT_LIBDIR AND NOT VV_ORT_LIBDIR IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  list(APPEND VV_INSTALL_RPATH "${VV_ORT_LIBDIR}")
  list(APPEND VV_INSTALL_RPATH_BIN "${VV_ORT_LIBDIR}")
endif()

if(TARGET vibevoice_shared)
  set_target_properties(vibevoice_shared PROPERTIES INSTALL_RPATH "${VV_INSTALL_RPATH}")
endif()
set_target_properties(vibevoice_cli PROPERTIES INSTALL_RPATH "${VV_INSTALL_RPATH_BIN}")

set(VV_CMAKE_DIR "${CMAKE_INSTALL_LIBDIR}/cmake/vibevoice")

# The ONNX Runtime prefix of this build, recorded in the package as a hint: ONNXRUNTIME_ROOT if given, else
# <prefix> when the library was found as <prefix>/lib[64]/libonnxruntime.so with headers under
# <prefix>/include (e.g. third_party/onnxruntime). A system install (multiarch lib dir) needs no hint.
set(VV_ORT_ROOT_HINT "${ONNXRUNTIME_ROOT}")
if(NOT VV_ORT_ROOT_HINT AND DEFINED ENV{ONNXRUNTIME_ROOT})
  set(VV_ORT_ROOT_HINT "$ENV{ONNXRUNTIME_ROOT}")
endif()
if(NOT VV_ORT_ROOT_HINT AND ONNXRUNTIME_INCLUDE_DIR AND VV_ORT_LIBDIR)
  get_filename_component(_ort_libdir_name "${VV_ORT_LIBDIR}" NAME)
  get_filename_component(_ort_prefix "${VV_ORT_LIBDIR}" DIRECTORY)
  get_filename_component(_ort_include "${ONNXRUNTIME_INCLUDE_DIR}" REALPATH)
  if(_ort_libdir_name MATCHES "^lib(64)?$" AND _ort_include MATCHES "^${_ort_prefix}/include"
     AND NOT _ort_prefix MATCHES "^/usr(/local)?$")
    set(VV_ORT_ROOT_HINT "${_ort_prefix}")
  endif()
endif()
if(VV_ORT_ROOT_HINT)
  get_filename_component(VV_ORT_ROOT_HINT "${VV_ORT_ROOT_HINT}" ABSOLUTE)
endif()

set(_vv_lib_targets vibevoice_lib)
if(TARGET vibevoice_shared)
  list(APPEND _vv_lib_targets vibevoice_shared)
endif()
install(TARGETS ${_vv_lib_targets} EXPORT vibevoiceTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS vibevoice_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vibevoice DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h" PATTERN "*.hpp")

install(EXPORT vibevoiceTargets NAMESPACE vibevoice:: DESTINATION ${VV_CMAKE_DIR})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/vibevoiceConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/vibevoiceConfig.cmake INSTALL_DESTINATION ${VV_CMAKE_DIR})
# The C ABI is kept within a major version (SONAME libvibevoice.so.MAJOR).
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/vibevoiceConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/vibevoiceConfig.cmake
              ${PROJECT_BINARY_DIR}/package/vibevoiceConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindONNXRuntime.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindOpenFst.cmake
        DESTINATION ${VV_CMAKE_DIR})

# pkg-config: relocatable (prefix relative to the .pc file).
file(RELATIVE_PATH VV_PC_TO_PREFIX "/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/")
string(REGEX REPLACE "/$" "" VV_PC_TO_PREFIX "${VV_PC_TO_PREFIX}")
set(VV_PC_ORT_LIBS "-lonnxruntime")
if(VV_ORT_LIBDIR AND NOT VV_ORT_LIBDIR IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
  set(VV_PC_ORT_LIBS "-L${VV_ORT_LIBDIR} -Wl,-rpath,${VV_ORT_LIBDIR} -lonnxruntime")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/vibevoice.pc.in ${PROJECT_BINARY_DIR}/package/vibevoice.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/package/vibevoice.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
