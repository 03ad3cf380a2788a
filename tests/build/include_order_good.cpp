// Must compile: cereal's archive (through json_internal.h), then RapidJSON. The pair with
// include_order_bad.cpp shows the guard tells the two orders apart.
#include "json_internal.h"  // shared/src/, on the include path

#include <rapidjson/document.h>

int main() { return 0; }
