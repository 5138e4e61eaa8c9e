# cmake/Package.cmake: `cmake --build BUILD --target package` makes a Debian package (CPack DEB)
# of what cmake/Install.cmake installs, under /usr: the binaries, the systemd units, the
# sysusers.d and tmpfiles.d files, the example configs, schemas and docs. Configure the build
# for it with -DSTAFETT_BUILD_TESTS=OFF -DSTAFETT_BUILD_BENCH=OFF so that `package` builds only
# the three binaries. Runtime dependencies come from dpkg-shlibdeps.
set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "stafett")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "Stafett maintainers")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "store-and-forward messaging between a county's agencies (broker, agent, CLI)")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/package")
include(CPack)
