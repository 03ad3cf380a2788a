// The three kinds of record, and a change to one of them (protocol.md §3).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "safer/commute_session.h"
#include "safer/hlc.h"
#include "safer/household.h"
#include "safer/visit.h"

namespace safer {

enum class Entity { household, visit, commute_session };

template <>
struct EnumNames<Entity> {
  static constexpr std::array<std::string_view, 3> names{"household", "visit", "commute_session"};
};

enum class Op { upsert, remove };  // "delete" on the wire

template <>
struct EnumNames<Op> {
  static constexpr std::array<std::string_view, 2> names{"upsert", "delete"};
};

enum class Role { officer, pcso, coordinator };

template <>
struct EnumNames<Role> {
  static constexpr std::array<std::string_view, 3> names{"officer", "pcso", "coordinator"};
};

// The index of each alternative equals the Entity it holds.
using RecordData = std::variant<Household, Visit, CommuteSession>;

inline Entity entity_of(const RecordData& data) { return static_cast<Entity>(data.index()); }

// One version of one record: an upsert carrying the whole record, or a delete (tombstone).
//
// Invariants: data.has_value() == (op == Op::upsert); entity_of(*data) == entity.
struct Change {
  Entity entity = Entity::visit;
  Op op = Op::upsert;
  std::string id;  // lowercase canonical UUID
  Hlc hlc;
  std::optional<RecordData> data;

  friend bool operator==(const Change&, const Change&) = default;
};

}  // namespace safer
