# Installs binaries, the core + validator (+ client) libraries with headers,
# and a CMake package so other projects can find_package(edgepass).
include(CMakePackageConfigHelpers)

# edgepass_text: core's JSON string writer (no public headers of its own).
install(TARGETS edgepass_core edgepass_text edgepass_validator EXPORT edgepass-targets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/core/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepass/core
  FILES_MATCHING PATTERN "*.h" PATTERN "*_internal.h" EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/client/validator/
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepass/client/validator FILES_MATCHING PATTERN "*.h")

if(TARGET edgepass_proto)
  # The client SDK links the generated API publicly, so it ships too.
  install(TARGETS edgepass_proto EXPORT edgepass-targets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
  install(DIRECTORY ${PROJECT_BINARY_DIR}/proto/edgepass/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/edgepass FILES_MATCHING PATTERN "*.pb.h")
endif()

# The validator sidecar and the nginx configuration it is tested with.
if(TARGET edgepass_validator_sidecar)
  install(TARGETS edgepass_validator_sidecar RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx/edgepass.conf
    DESTINATION ${CMAKE_INSTALL_DATADIR}/edgepass/nginx)
endif()

# The nginx module where Debian's nginx looks for modules, and its config.
if(TARGET ngx_http_edgepass_module)
  install(TARGETS ngx_http_edgepass_module LIBRARY DESTINATION lib/nginx/modules)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/nginx/edgepass-module.conf
    DESTINATION ${CMAKE_INSTALL_DATADIR}/edgepass/nginx)
endif()

install(EXPORT edgepass-targets NAMESPACE edgepass::
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgepass)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/edgepassConfig.cmake.in
  ${PROJECT_BINARY_DIR}/edgepassConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgepass)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/edgepassConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/edgepassConfig.cmake
  ${PROJECT_BINARY_DIR}/edgepassConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/edgepass)
