#pragma once
// Case-insensitive key/value metadata (HTTP header fields and their equivalents). Keys keep the
// spelling they were given; lookups ignore ASCII case. Small: a linear scan beats hashing here.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace collage {

bool iequals(std::string_view a, std::string_view b);
bool istarts_with(std::string_view text, std::string_view prefix);
// Without leading and trailing spaces and tabs (HTTP's optional whitespace, RFC 9110 §5.6.3).
std::string_view trim_ows(std::string_view text);

// Views into storage that the owner keeps alive (a request's header block, a static table).
class MetadataView {
 public:
  using Field = std::pair<std::string_view, std::string_view>;

  void add(std::string_view key, std::string_view value) { fields_.emplace_back(key, value); }
  // Replaces every field named key with one field.
  void set(std::string_view key, std::string_view value);
  void remove(std::string_view key);
  // First value for key, or an empty view when absent; use contains() to tell "" from absent.
  std::string_view get(std::string_view key) const;
  bool contains(std::string_view key) const;
  std::size_t count(std::string_view key) const;
  void clear() { fields_.clear(); }
  std::size_t size() const { return fields_.size(); }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

// Owning metadata, for what a store or filter adds to a response.
class Metadata {
 public:
  using Field = std::pair<std::string, std::string>;

  void add(std::string key, std::string value) {
    fields_.emplace_back(std::move(key), std::move(value));
  }
  // Replaces every field named key with one field.
  void set(std::string_view key, std::string value);
  void remove(std::string_view key);
  std::string_view get(std::string_view key) const;
  bool contains(std::string_view key) const;
  void clear() { fields_.clear(); }
  bool empty() const { return fields_.empty(); }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  std::vector<Field> fields_;
};

}  // namespace collage
