// A store as version 4 of field-client left it, with that version's app PIN: the schema of
// migrations 1 to 4 and the PIN as its Store::set_pin wrote it (a PBKDF2-SHA256 hash in meta;
// git 1c95a9b^, field-client/src/store_views.cpp), built with SQL rather than kept as a binary
// fixture. For the tests of the upgrade (field_client/legacy_pin_test, e2e/tablet_app_test).
// Include only from tests that link safer::field_client.
#pragma once

#include <catch2/catch.hpp>

#include <string>

#include "field_client/store.h"
#include "safer/sqlite.h"

namespace test_support {

constexpr const char* kOldPin = "135790";
// PBKDF2-HMAC-SHA256 of kOldPin, 200,000 iterations, the salt's hex text as the salt.
constexpr const char* kOldPinHash =
    "pbkdf2-sha256$200000$5a1f0c2e9b7d4836a1c0e2f4b6d8a0c2$541045c0a1184901a5e83ead3a9016f2c63a9cbe309ae8e7ee67ce279034e2ca";
constexpr const char* kOldStoreAddress = "4 Legacy Fictional Mews";
constexpr const char* kOldStoreHousehold = "0192f5e4-0000-7000-8000-0000000000e1";

// A store of schema version 4 holding one household and the old app PIN, with `attempts`
// ("FAILURES NOT_BEFORE LOCKED_OUT") wrong PINs counted.
inline void make_old_store(const std::string& path, const std::string& attempts = "0 0 0") {
  REQUIRE(field_client::create_store_at_version(path, 4).ok());
  safer::sqlite::Database db(path);
  db.exec(std::string("INSERT INTO meta (key, value) VALUES ('device_id', 'tablet-old'), ('last_seq', '1'),"
                      " ('pin', '") + kOldPinHash + "'), ('pin_attempts', '" + attempts + "');"
          "INSERT INTO records (entity, id, hlc, device_id, data, created_here) VALUES ('household', '" + kOldStoreHousehold +
          "', '001764149400000-00001', 'tablet-old', '{\"address\":\"" + kOldStoreAddress +
          "\",\"postcode\":\"WD6 1AA\",\"ward\":\"Elstree\",\"vulnerability\":[]}', 1);"
          "INSERT INTO outbox (seq, entity, op, record_id, hlc, data, state, created_at) VALUES (1, 'household', 'upsert', '" +
          kOldStoreHousehold + "', '001764149400000-00001', (SELECT data FROM records), 'pending', 1);");
}

}  // namespace test_support
