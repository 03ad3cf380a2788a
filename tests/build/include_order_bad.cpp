// Must NOT compile: RapidJSON before cereal's archive (see the guard in json_internal.h).
// tests/CMakeLists.txt compiles it and expects the #error.
#include <rapidjson/document.h>

#include "../../shared/src/json_internal.h"

int main() { return 0; }
