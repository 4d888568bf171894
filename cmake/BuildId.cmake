# Writes OUTPUT defining FAOPT_BUILD_ID: a SHA-256 over the compiler's
# sources (FILES, separated by |), so the kernel cache never serves code from an
# older compiler.   cmake -DOUTPUT=... -DFILES=... -P BuildId.cmake
string(REPLACE "|" ";" FILES "${FILES}")
set(all "")
foreach(f IN LISTS FILES)
  file(SHA256 "${f}" h)
  string(APPEND all "${f}:${h}\n")
endforeach()
string(SHA256 id "${all}")
file(WRITE "${OUTPUT}.tmp" "// Generated; do not edit.\n#define FAOPT_BUILD_ID \"${id}\"\n")
execute_process(COMMAND ${CMAKE_COMMAND} -E copy_if_different "${OUTPUT}.tmp" "${OUTPUT}")
file(REMOVE "${OUTPUT}.tmp")
