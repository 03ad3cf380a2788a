// Wire names of the protocol's enumerations (protocol.md §5), and small sets of them.
//
// Each enumeration used on the wire specialises EnumNames<E> with its names in declaration
// order; to_string, enum_from_string and EnumSet then work for it.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace safer {

template <class E>
struct EnumNames;  // static constexpr std::array<std::string_view, N> names;

template <class E>
constexpr std::string_view to_string(E value) {
  return EnumNames<E>::names[static_cast<std::size_t>(value)];
}

// Returns the enumerator whose wire name is `name`, or nullopt. Case-sensitive.
template <class E>
constexpr std::optional<E> enum_from_string(std::string_view name) {
  const auto& names = EnumNames<E>::names;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  return std::nullopt;
}

// "a, b, c or d": a list of allowed values (names, wards, …), for error messages.
template <class Names>
std::string join_alternatives(const Names& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " or " : ", ";
    out += names[i];
  }
  return out;
}

// The enumeration's names, joined so.
template <class E>
std::string allowed_values() {
  return join_alternatives(EnumNames<E>::names);
}

// A subset of an enumeration (the "distinct values from …" fields of protocol.md §5). Iterates and
// serialises in declaration order, so equal sets always look the same on the wire.
template <class E>
class EnumSet {
 public:
  static_assert(EnumNames<E>::names.size() <= 32);

  EnumSet() = default;
  EnumSet(std::initializer_list<E> values) {
    for (E v : values) insert(v);
  }

  void insert(E v) { bits_ |= bit(v); }
  void erase(E v) { bits_ &= ~bit(v); }
  bool contains(E v) const { return (bits_ & bit(v)) != 0; }
  bool empty() const { return bits_ == 0; }
  std::uint32_t bits() const { return bits_; }
  // The set bits() gave; bits past the last name are dropped.
  static EnumSet from_bits(std::uint32_t bits) {
    EnumSet set;
    set.bits_ = bits & ((std::uint64_t{1} << EnumNames<E>::names.size()) - 1);
    return set;
  }

  std::vector<E> values() const {
    std::vector<E> out;
    for (std::size_t i = 0; i < EnumNames<E>::names.size(); ++i) {
      if (bits_ & (1u << i)) out.push_back(static_cast<E>(i));
    }
    return out;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (E v : values()) out.emplace_back(to_string(v));
    return out;
  }

  friend bool operator==(const EnumSet&, const EnumSet&) = default;

 private:
  static std::uint32_t bit(E v) { return 1u << static_cast<unsigned>(v); }
  std::uint32_t bits_ = 0;
};

}  // namespace safer
