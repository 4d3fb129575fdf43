# Packaging: `cpack --config build/<preset>/CPackConfig.cmake` → crm-hygiene_<version>_<arch>.deb
# (Debian 12). It holds what `cmake --install` installs — the binary in /usr/bin, the unit in
# /usr/lib/systemd/system, the example config — plus the alert rules and the docs under
# /usr/share/doc/crm-hygiene. The example config lands in /etc/crm-hygiene as a conffile (dpkg
# keeps an admin's edits across upgrades and leaves it on `dpkg -r`; `dpkg -P` removes it).
# No maintainer scripts: installing never starts an unconfigured daemon
# (docs/operations.md: copy the example, add the password, `systemctl enable --now`).
install(FILES config/alerts.yml README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}/docs FILES_MATCHING PATTERN "*.md")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "crm-hygiene")
set(CPACK_PACKAGE_VENDOR "crm-hygiene")
set(CPACK_PACKAGE_CONTACT "crm-hygiene maintainers <crm-hygiene@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "scheduled CRM database hygiene: dedup, prune, standardize, audit, digest")
string(CONCAT CPACK_PACKAGE_DESCRIPTION
       "A daemon that keeps a CRM's MySQL/MariaDB contact tables clean on a calendar, with a "
       "verified backup of every change in the same transaction and an exact restore.")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # Depends: from the binary's libraries (dpkg-shlibdeps)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "mariadb-client, prometheus")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)  # debug info stays in the build tree
# The install rules say `etc/crm-hygiene` relative to the prefix (right for /usr/local); in the
# package the prefix is /usr but configuration belongs in /etc: the pre-build script moves it.
set(CPACK_PRE_BUILD_SCRIPTS "${CMAKE_CURRENT_LIST_DIR}/PackageEtc.cmake")
set(_crmh_conffiles "${CMAKE_CURRENT_BINARY_DIR}/deb/conffiles")
file(WRITE "${_crmh_conffiles}" "/etc/crm-hygiene/crm-hygiene.example.yaml\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA "${_crmh_conffiles}")
include(CPack)
