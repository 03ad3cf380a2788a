#include "safer/json_object.h"

#include "json_internal.h"

namespace safer {

std::optional<JsonObject> JsonObject::parse(std::string_view text) {
  json::Document document;
  if (!json::parse(text, document) || !document.IsObject() || json::duplicate_key(document)) return std::nullopt;
  JsonObject object;
  for (const auto& member : document.GetObject()) {
    Member value{Kind::other, {}, {}, {}, {}};
    if (member.value.IsString()) {
      value = {Kind::string, std::string(member.value.GetString(), member.value.GetStringLength()), {}, {}, {}};
    } else if (member.value.IsNull()) {
      value.kind = Kind::null;
    } else if (member.value.IsInt64()) {
      value.number = member.value.GetInt64();
    } else if (member.value.IsBool()) {
      value.flag = member.value.GetBool();
    } else if (member.value.IsArray()) {
      std::vector<std::string> texts;
      for (const auto& item : member.value.GetArray()) {
        if (!item.IsString()) break;
        texts.emplace_back(item.GetString(), item.GetStringLength());
      }
      if (texts.size() == member.value.Size()) value.strings = std::move(texts);
    }
    object.members_.emplace(std::string(member.name.GetString(), member.name.GetStringLength()), std::move(value));
  }
  return object;
}

std::optional<std::string> JsonObject::string(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end() || found->second.kind != Kind::string) return std::nullopt;
  return found->second.text;
}

std::optional<std::int64_t> JsonObject::integer(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end()) return std::nullopt;
  return found->second.number;
}

std::optional<bool> JsonObject::boolean(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end()) return std::nullopt;
  return found->second.flag;
}

std::optional<std::vector<std::string>> JsonObject::strings(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end()) return std::nullopt;
  return found->second.strings;
}

std::optional<JsonObject::Kind> JsonObject::kind(const std::string& name) const {
  const auto found = members_.find(name);
  if (found == members_.end()) return std::nullopt;
  return found->second.kind;
}

}  // namespace safer
