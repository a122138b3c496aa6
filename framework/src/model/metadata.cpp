#include "collage/metadata.h"

#include <algorithm>

namespace collage {
namespace {

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) {
      return false;
    }
  }
  return true;
}

bool istarts_with(std::string_view text, std::string_view prefix) {
  return text.size() >= prefix.size() && iequals(text.substr(0, prefix.size()), prefix);
}

std::string_view MetadataView::get(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (iequals(k, key)) {
      return v;
    }
  }
  return {};
}

bool MetadataView::contains(std::string_view key) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const Field& f) { return iequals(f.first, key); });
}

std::size_t MetadataView::count(std::string_view key) const {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, key); }));
}

void MetadataView::set(std::string_view key, std::string_view value) {
  remove(key);
  fields_.emplace_back(key, value);
}

void MetadataView::remove(std::string_view key) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, key); });
}

void Metadata::set(std::string_view key, std::string value) {
  remove(key);
  fields_.emplace_back(std::string(key), std::move(value));
}

void Metadata::remove(std::string_view key) {
  std::erase_if(fields_, [&](const Field& f) { return iequals(f.first, key); });
}

std::string_view Metadata::get(std::string_view key) const {
  for (const auto& [k, v] : fields_) {
    if (iequals(k, key)) {
      return v;
    }
  }
  return {};
}

bool Metadata::contains(std::string_view key) const {
  return std::any_of(fields_.begin(), fields_.end(),
                     [&](const Field& f) { return iequals(f.first, key); });
}

std::string_view trim_ows(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace collage
