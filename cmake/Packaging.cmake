# Two Debian packages, built with CPack's DEB generator by scripts/package.sh (docs/deployment.md):
#  - safer-streets-sync-server (component "server"): /usr/bin/sync-server, its systemd unit, its
#    config file (a conffile) and, made by postinst, the system user safer-streets and
#    /var/lib/safer-streets (0700). The dashboard's files are built into the binary.
#  - safer-streets-field-client (component "client"): /usr/bin/field-client (the tablet app's
#    files built in), libfield_client_c.so and its header, and a desktop entry (running
#    `field-client app`) with its icon.
# The install() rules of the programs and the library are beside their targets; the rest is here.
include(GNUInstallDirs)

# CPack installs without building everything first: scripts/package.sh builds the three targets
# the packages hold, so that a ci tree does not rebuild its tests to make a package.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

set(packaging_dir "${PROJECT_SOURCE_DIR}/packaging")

install(FILES "${packaging_dir}/sync-server/sync-server.conf" DESTINATION /etc/safer-streets
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ COMPONENT server)
install(FILES "${packaging_dir}/sync-server/safer-streets-sync-server.service" DESTINATION /lib/systemd/system
        COMPONENT server)
install(FILES "${PROJECT_SOURCE_DIR}/docs/deployment.md" "${PROJECT_SOURCE_DIR}/docs/server.md"
              "${PROJECT_SOURCE_DIR}/docs/data-protection.md"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/safer-streets-sync-server" COMPONENT server)
install(FILES "${packaging_dir}/field-client/safer-streets-field-client.desktop"
        DESTINATION "${CMAKE_INSTALL_DATADIR}/applications" COMPONENT client)
# The desktop entry's icon (Icon=safer-streets-field-client): the tablet app's own.
install(FILES "${PROJECT_SOURCE_DIR}/field-client/web/icon.svg" DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps"
        RENAME safer-streets-field-client.svg COMPONENT client)
install(FILES "${PROJECT_SOURCE_DIR}/docs/field-client.md" "${PROJECT_SOURCE_DIR}/docs/tablet-app.md"
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/safer-streets-field-client" COMPONENT client)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME safer-streets)
set(CPACK_PACKAGE_VENDOR "Safer Streets")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the release build keeps its debug info; the packages do not
set(CPACK_COMPONENTS_ALL server client)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION-RELEASE_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "Safer Streets developers <safer-streets@example.org>")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://example.org/safer-streets")
# Shared-library dependencies from dpkg-shlibdeps (dpkg-dev): libssl3, libpq5, libstdc++6, libc6
# at the versions the build linked against, rather than a hand-kept list that goes stale.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# A shlibs file for libfield_client_c.so.0, so that a native app's package depends on this one.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")

set(CPACK_DEBIAN_SERVER_PACKAGE_NAME safer-streets-sync-server)
string(CONCAT CPACK_COMPONENT_SERVER_DESCRIPTION
    "Safer Streets sync server\n"
    "The central server Safer Streets tablets sync with: it receives every change exactly once,\n"
    "keeps the register of target households and gives coordinators live counts of visits,\n"
    "outcomes and household coverage in a web dashboard. SQLite or PostgreSQL. Runs as the\n"
    "system user safer-streets under systemd (safer-streets-sync-server.service).")
# adduser: postinst makes the system user; tzdata: the statistics' local dates.
set(CPACK_DEBIAN_SERVER_PACKAGE_DEPENDS "adduser, tzdata")
set(CPACK_DEBIAN_SERVER_PACKAGE_CONTROL_EXTRA
    "${packaging_dir}/sync-server/conffiles" "${packaging_dir}/sync-server/postinst"
    "${packaging_dir}/sync-server/prerm" "${packaging_dir}/sync-server/postrm")

set(CPACK_DEBIAN_CLIENT_PACKAGE_NAME safer-streets-field-client)
string(CONCAT CPACK_COMPONENT_CLIENT_DESCRIPTION
    "Safer Streets field client for tablets\n"
    "Records household visits and Commute Aware sessions offline and never loses one; syncs\n"
    "with the Safer Streets sync server when there is a connection. The field-client program\n"
    "serves the tablet app on 127.0.0.1 and opens it in the browser (field-client app, the\n"
    "menu's \"Safer Streets\"); libfield_client_c.so and its header let native apps embed\n"
    "the same store and sync through a C API, and serve the same app in a WebView.")

include(CPack)
