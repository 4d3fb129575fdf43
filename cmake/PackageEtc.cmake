# CPack pre-build script (cmake/Packaging.cmake): move <staging>/usr/etc to <staging>/etc.
file(GLOB_RECURSE _all LIST_DIRECTORIES true "${CPACK_TEMPORARY_INSTALL_DIRECTORY}/*")
foreach(_dir IN LISTS _all)
  if(IS_DIRECTORY "${_dir}" AND _dir MATCHES "/usr/etc$")
    string(REGEX REPLACE "/usr/etc$" "/etc" _to "${_dir}")
    file(RENAME "${_dir}" "${_to}")
  endif()
endforeach()
