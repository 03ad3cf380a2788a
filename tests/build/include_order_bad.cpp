// Must NOT compile: RapidJSON before cereal's archive (see the guard in json_internal.h).
// tests/CMakeLists.txt compiles it and expects the #error.
#include <rapidjson/document.h>

#include "json_internal.h"  // shared/src/, on the include path

int main() { return 0; }
