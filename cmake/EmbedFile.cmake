# Writes OUTPUT as a C++ include defining `static const char NAME[]` with the
# contents of INPUT (a raw string literal), so device headers travel inside
# the binaries that hand them to NVRTC.
#   cmake -DINPUT=... -DOUTPUT=... -DNAME=... -P EmbedFile.cmake
file(READ "${INPUT}" contents)
string(FIND "${contents}" ")FAOPT_EMBED\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw-string delimiter")
endif()
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT}; do not edit.\n"
  "static const char ${NAME}[] = R\"FAOPT_EMBED(${contents})FAOPT_EMBED\";\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
