// Reading JSON answers in tests: the parsed document, or the test stops naming the text.
// Header-only, since it needs Catch2 (test_support itself does not).
#pragma once

#include <catch2/catch.hpp>

#include <cereal/archives/json.hpp>  // RapidJSON, configured as cereal configures it

#include <string>

namespace test_support {

// `text` parsed; REQUIREs that it is JSON at all.
inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document document;
  document.Parse(text.c_str());
  INFO(text);
  REQUIRE_FALSE(document.HasParseError());
  return document;
}

// `text` parsed; REQUIREs a JSON object.
inline rapidjson::Document parse_object(const std::string& text) {
  auto document = parse_json(text);
  INFO(text);
  REQUIRE(document.IsObject());
  return document;
}

}  // namespace test_support
