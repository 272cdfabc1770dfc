# `make install` (cmake --install) and `make package` (CPack, a Debian package).
#
# Layout under the prefix (/usr/local by default, /usr in the package):
#   bin/tapio-collector, bin/tapio-sink
#   share/tapio/rules/{default,security,presets}/*.lua   shipped rule sets
#   share/tapio/lua/*.lua                                the Lua library
#   share/man/man8/tapio-collector.8, tapio-sink.8, share/man/man7/tapio-rules.7
#   share/doc/tapio-collector/                           docs and examples
#   lib/systemd/system/tapio-collector.service
# and, whatever the prefix, /etc/tapio for the config file and
# local rules (rules.d/). The binary finds the shipped rules from its own
# location (<bindir>/../share/tapio/rules): no path is compiled in, so a
# DESTDIR install or a relocated tree works as it is.
include(GNUInstallDirs)

# `make install`, `make package` and cpack install what is built and build
# nothing themselves (the Makefile builds the two programs first): without
# this, cpack would build every test and fuzz target of the tree.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(TP_DATADIR "${CMAKE_INSTALL_DATADIR}/tapio")

install(TARGETS tapio-collector tapio-sink RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

install(DIRECTORY ${CMAKE_SOURCE_DIR}/rules/ DESTINATION ${TP_DATADIR}/rules
        FILE_PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE
                              WORLD_READ WORLD_EXECUTE
        FILES_MATCHING PATTERN "*.lua" PATTERN "*.md")
install(DIRECTORY ${CMAKE_SOURCE_DIR}/lua/ DESTINATION ${TP_DATADIR}/lua
        FILES_MATCHING PATTERN "*.lua")

install(FILES ${CMAKE_SOURCE_DIR}/docs/man/tapio-collector.8 ${CMAKE_SOURCE_DIR}/docs/man/tapio-sink.8
        DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/docs/man/tapio-rules.7 DESTINATION ${CMAKE_INSTALL_MANDIR}/man7)

install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        PATTERN "notes" EXCLUDE PATTERN "man" EXCLUDE)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/examples/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# The systemd unit, with ExecStart pointing at this install's binary (the
# prefix is known only at install time: CPack installs under /usr).
install(CODE "
  file(READ \"${CMAKE_SOURCE_DIR}/examples/systemd/tapio-collector.service\" unit)
  string(REPLACE \"/usr/bin/tapio-collector\" \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/tapio-collector\"
         unit \"\${unit}\")
  file(WRITE \"${CMAKE_BINARY_DIR}/gen/tapio-collector.service\" \"\${unit}\")
  # file(INSTALL) puts DESTDIR in front of an absolute destination itself.
  file(INSTALL \"${CMAKE_BINARY_DIR}/gen/tapio-collector.service\" DESTINATION
       \"\${CMAKE_INSTALL_PREFIX}/lib/systemd/system\"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
")

# Configuration (packaging/etc/ mirrors /etc): installed once, never
# overwritten by `make install` where an administrator has it already (the
# package marks them conffiles). /etc whatever the prefix: the unit, the
# DaemonSet and the docs name /etc/tapio.
set(TP_ETC_FILES tapio/config.lua tapio/rules.d/README.md default/tapio-collector)
install(CODE "
  foreach(f ${TP_ETC_FILES})
    if(EXISTS \"\$ENV{DESTDIR}/etc/\${f}\")
      message(STATUS \"Keeping: \$ENV{DESTDIR}/etc/\${f}\")
    else()
      get_filename_component(dir \"/etc/\${f}\" DIRECTORY)
      file(INSTALL \"${CMAKE_SOURCE_DIR}/packaging/etc/\${f}\" DESTINATION \"\${dir}\"
           PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
    endif()
  endforeach()
")

# ---------------------------------------------------------------- package
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME tapio-collector)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "tapio-collector maintainers <tapio@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "eBPF node agent with a Lua rule engine")
set(CPACK_PACKAGE_DESCRIPTION
    "tapio-collector observes process, file, network, security, container and memory\n"
    "events with eBPF, keeps every event raw on disk and passes them through plain\n"
    "Lua rules (filters, scoring, enrichment, detections) that reload on SIGHUP.\n"
    "Alerts and important events go to stdout, a JSON file, syslog, an HTTP webhook,\n"
    "a Tapio server (gRPC) or an OpenTelemetry Collector (OTLP logs).")
string(REPLACE ";" "" CPACK_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# Install into the staging tree with DESTDIR, so /etc/tapio lands inside it.
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# The package installs, and starts nothing: `systemctl enable --now
# tapio-collector` is the administrator's choice.
list(TRANSFORM TP_ETC_FILES PREPEND /etc/ OUTPUT_VARIABLE TP_CONFFILES)
list(JOIN TP_CONFFILES "\n" TP_CONFFILES)
file(WRITE ${CMAKE_BINARY_DIR}/gen/debian/conffiles "${TP_CONFFILES}\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_BINARY_DIR}/gen/debian/conffiles ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
    ${CMAKE_SOURCE_DIR}/packaging/debian/prerm ${CMAKE_SOURCE_DIR}/packaging/debian/postrm)
include(CPack)
