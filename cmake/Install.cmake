# cmake/Install.cmake: what `cmake --install` puts where. Included from the top-level
# CMakeLists.txt after every add_subdirectory(), so that if(TARGET ...) sees the binaries.
#
#   bin/                              stafett, stafett-broker, stafett-agent (those that are built)
#   share/stafett/schemas/            the JSON Schemas (*.schema.json; also compiled in)
#   share/stafett/schemas/examples/   valid/, invalid/, tour.json, README.md (stafett county tour)
#   share/stafett/prometheus/         stafett.rules.yml, prometheus.yml (an example)
#   share/stafett/grafana/            stafett-dashboard.json
#   share/stafett/config/             example broker, agent, auditor and operator configs
#   lib/systemd/system/               stafett-broker.service, stafett-agent@.service,
#                                     stafett-broker-backup.service, stafett-broker-backup.timer
#   lib/sysusers.d/stafett.conf       the stafett system user
#   lib/tmpfiles.d/stafett.conf       /var/backups/stafett
#   share/doc/stafett/                README.md, docs/, deploy/*/README.md
#
# lib/systemd/system, lib/sysusers.d and lib/tmpfiles.d are relative to the prefix on purpose:
# systemd reads them under both /usr/local (the default prefix) and /usr (a package), whatever
# GNUInstallDirs' LIBDIR says (lib/x86_64-linux-gnu on Debian). Other prefixes (/opt/...) are
# not on systemd's search path: set STAFETT_INSTALL_SYSTEMD_DIR and friends to absolute paths.
#
# The units in deploy/systemd name /usr/local/bin/... and /usr/local/share/...; they are
# installed with /usr/local/ replaced by the install prefix (evaluated at install time, so
# `cmake --install build --prefix /usr` works too).

include(GNUInstallDirs)

set(STAFETT_INSTALL_SYSTEMD_DIR "lib/systemd/system" CACHE STRING
    "Where systemd unit files are installed (relative paths are under the prefix)")
set(STAFETT_INSTALL_SYSUSERS_DIR "lib/sysusers.d" CACHE STRING
    "Where the sysusers.d file is installed (relative paths are under the prefix)")
set(STAFETT_INSTALL_TMPFILES_DIR "lib/tmpfiles.d" CACHE STRING
    "Where the tmpfiles.d file is installed (relative paths are under the prefix)")

foreach(binary IN ITEMS stafett stafett-broker stafett-agent)
  if(TARGET ${binary})
    install(TARGETS ${binary} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
endforeach()

file(GLOB STAFETT_INSTALL_SCHEMAS ${PROJECT_SOURCE_DIR}/schemas/*.schema.json)
install(FILES ${STAFETT_INSTALL_SCHEMAS} DESTINATION ${CMAKE_INSTALL_DATADIR}/stafett/schemas)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/schemas/examples/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/stafett/schemas/examples)

install(FILES ${PROJECT_SOURCE_DIR}/deploy/prometheus/stafett.rules.yml
              ${PROJECT_SOURCE_DIR}/deploy/prometheus/prometheus.yml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/stafett/prometheus)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/grafana/stafett-dashboard.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/stafett/grafana)

# Units: rewritten for the prefix into the build tree at install time, then installed.
set(STAFETT_INSTALL_UNITS
    deploy/systemd/stafett-broker.service
    deploy/systemd/stafett-agent@.service
    deploy/systemd/stafett-broker-backup.service
    deploy/systemd/stafett-broker-backup.timer)
set(STAFETT_INSTALL_UNITS_STAGED "${PROJECT_BINARY_DIR}/install-units")
foreach(unit IN LISTS STAFETT_INSTALL_UNITS)
  get_filename_component(unit_name ${unit} NAME)
  install(CODE "
    file(READ \"${PROJECT_SOURCE_DIR}/${unit}\" stafett_unit)
    string(REPLACE \"/usr/local/\" \"\${CMAKE_INSTALL_PREFIX}/\" stafett_unit \"\${stafett_unit}\")
    file(WRITE \"${STAFETT_INSTALL_UNITS_STAGED}/${unit_name}\" \"\${stafett_unit}\")
  ")
  install(FILES "${STAFETT_INSTALL_UNITS_STAGED}/${unit_name}"
          DESTINATION ${STAFETT_INSTALL_SYSTEMD_DIR})
endforeach()
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/stafett.sysusers.conf
        DESTINATION ${STAFETT_INSTALL_SYSUSERS_DIR} RENAME stafett.conf)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/stafett.tmpfiles.conf
        DESTINATION ${STAFETT_INSTALL_TMPFILES_DIR} RENAME stafett.conf)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs
        FILES_MATCHING PATTERN "*.md")
foreach(part IN ITEMS systemd prometheus grafana)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/${part}/README.md
          DESTINATION ${CMAKE_INSTALL_DOCDIR}/deploy/${part})
endforeach()

# The example configs (deploy/config): to copy to /etc/stafett/... and edit.
install(FILES ${PROJECT_SOURCE_DIR}/deploy/config/broker.toml
              ${PROJECT_SOURCE_DIR}/deploy/config/agent.toml
              ${PROJECT_SOURCE_DIR}/deploy/config/auditor.toml
              ${PROJECT_SOURCE_DIR}/deploy/config/operator.toml
              ${PROJECT_SOURCE_DIR}/deploy/config/README.md
        DESTINATION ${CMAKE_INSTALL_DATADIR}/stafett/config)
