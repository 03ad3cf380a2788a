# safer_embed_web(): a web app's files, and the web toolkit both apps share (shared/web/),
# built into a program as a table of {url, content type, body} (cmake/EmbedFiles.cmake writes it).
#
#   safer_embed_web(
#     OUTPUT      <generated .cpp>           e.g. ${CMAKE_CURRENT_BINARY_DIR}/web_assets.cpp
#     DIRECTORY   <the app's web folder>     its *.html, *.js, *.css, *.svg, *.png and
#                                            *.webmanifest, sub-folders too
#                                            (node_modules/ left out)
#     URL_PREFIX  <where the app is served>  e.g. /dashboard/  (the app's files at <prefix><file>,
#                                            shared/web/* at <prefix>common/<file>)
#     NAMESPACE   <C++ namespace of kAssets>
#     HEADER      <header declaring Asset, kAssets and kAssetCount, as the .cpp includes it>
#     COMMENT     <what the build prints>
#     [EXTRA      <url>|<path> ...])         more files at urls of their own (e.g. vendored JS)
#
# The generated source is rewritten only when a file or the list of files changes; a new or
# removed file in either folder re-runs CMake (CONFIGURE_DEPENDS).
include_guard(GLOBAL)

# The servable files below `directory` (relative paths), into `out_var`.
function(_safer_web_files out_var directory)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS RELATIVE "${directory}"
       "${directory}/*.html" "${directory}/*.js" "${directory}/*.css" "${directory}/*.svg"
       "${directory}/*.png" "${directory}/*.webmanifest")
  list(FILTER files EXCLUDE REGEX "(^|/)node_modules/")
  list(SORT files)
  set(${out_var} "${files}" PARENT_SCOPE)
endfunction()

function(safer_embed_web)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT;DIRECTORY;URL_PREFIX;NAMESPACE;HEADER;COMMENT" "EXTRA")
  foreach(required OUTPUT DIRECTORY URL_PREFIX NAMESPACE HEADER)
    if(NOT arg_${required})
      message(FATAL_ERROR "safer_embed_web: ${required} is required")
    endif()
  endforeach()

  # The repository's shared/web/ (the web toolkit), whichever directory calls this.
  set(shared_dir "${PROJECT_SOURCE_DIR}/shared/web")

  set(entries "")
  set(paths "")
  foreach(extra IN LISTS arg_EXTRA)
    string(REPLACE "|" ";" parts "${extra}")
    list(GET parts 1 path)
    list(APPEND entries "${extra}")
    list(APPEND paths "${path}")
  endforeach()
  _safer_web_files(app_files "${arg_DIRECTORY}")
  foreach(file IN LISTS app_files)
    list(APPEND entries "${arg_URL_PREFIX}${file}|${arg_DIRECTORY}/${file}")
    list(APPEND paths "${arg_DIRECTORY}/${file}")
  endforeach()
  _safer_web_files(shared_files "${shared_dir}")
  foreach(file IN LISTS shared_files)
    if(EXISTS "${arg_DIRECTORY}/common/${file}")
      message(FATAL_ERROR "safer_embed_web: ${arg_DIRECTORY}/common/${file} would hide shared/web/${file}")
    endif()
    list(APPEND entries "${arg_URL_PREFIX}common/${file}|${shared_dir}/${file}")
    list(APPEND paths "${shared_dir}/${file}")
  endforeach()

  string(REPLACE ";" "," entries "${entries}")  # a list cannot cross the command line whole
  add_custom_command(
    OUTPUT "${arg_OUTPUT}"
    COMMAND ${CMAKE_COMMAND} "-DOUTPUT=${arg_OUTPUT}" "-DENTRIES=${entries}"
            "-DNAMESPACE=${arg_NAMESPACE}" "-DHEADER=${arg_HEADER}"
            -P "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/EmbedFiles.cmake"
    DEPENDS ${paths} "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/EmbedFiles.cmake"
    COMMENT "${arg_COMMENT}"
    VERBATIM)
endfunction()
