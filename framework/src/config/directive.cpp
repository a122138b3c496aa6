#include "collage/directive.h"

#include <algorithm>
#include <charconv>
#include <sstream>

#include "collage/metadata.h"

namespace collage {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() &&
         (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

// Splits "64k" into 64 and "k". False if there is no leading number or it overflows.
bool split_number(std::string_view text, std::int64_t& number, std::string_view& unit) {
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, number);
  if (ec != std::errc{} || ptr == text.data()) {
    return false;
  }
  unit = std::string_view(ptr, static_cast<std::size_t>(end - ptr));
  return true;
}

bool checked_multiply(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

std::string range_text(const Directive& d, std::string_view unit) {
  if (d.max == std::numeric_limits<std::int64_t>::max()) {
    return "at least " + std::to_string(d.min) + std::string(unit);
  }
  return "between " + std::to_string(d.min) + std::string(unit) + " and " + std::to_string(d.max) +
         std::string(unit);
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      const bool same = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                        std::tolower(static_cast<unsigned char>(b[j - 1]));
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace

std::string_view arg_type_name(ArgType type) {
  switch (type) {
    case ArgType::flag: return "flag";
    case ArgType::integer: return "integer";
    case ArgType::size: return "size";
    case ArgType::duration: return "duration";
    case ArgType::enumeration: return "enum";
    case ArgType::path: return "path";
    case ArgType::string: return "string";
    case ArgType::address: return "address";
    case ArgType::list: return "list";
    case ArgType::entries: return "entries";
  }
  return "?";
}

namespace {

std::string fold_line_breaks(std::string_view text) {
  std::string folded;
  folded.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '\r' && text[i] != '\n') {
      folded += text[i++];
      continue;
    }
    while (!folded.empty() && (folded.back() == ' ' || folded.back() == '\t')) {
      folded.pop_back();
    }
    while (i < text.size() &&
           (text[i] == '\r' || text[i] == '\n' || text[i] == ' ' || text[i] == '\t')) {
      ++i;
    }
    folded += ' ';
  }
  return folded;
}

}  // namespace

bool parse_directive_value(const Directive& d, std::string_view raw, DirectiveValue& out,
                           std::string& error) {
  const std::string_view text = trim(raw);
  switch (d.type) {
    case ArgType::flag:
      if (iequals(text, "on") || iequals(text, "true") || iequals(text, "yes")) {
        out = true;
        return true;
      }
      if (iequals(text, "off") || iequals(text, "false") || iequals(text, "no")) {
        out = false;
        return true;
      }
      error = "expects on or off, got '" + std::string(text) + "'";
      return false;
    case ArgType::integer: {
      std::int64_t n = 0;
      std::string_view unit;
      if (!split_number(text, n, unit) || !unit.empty()) {
        error = "expects a whole number, got '" + std::string(text) + "'";
        return false;
      }
      if (n < d.min || n > d.max) {
        error = "expects a number " + range_text(d, "") + ", got " + std::to_string(n);
        return false;
      }
      out = n;
      return true;
    }
    case ArgType::size: {
      std::int64_t n = 0;
      std::string_view unit;
      std::int64_t factor = 1;
      if (!split_number(text, n, unit) || n < 0) {
        error = "expects a size such as 512, 64k, 10m or 1g, got '" + std::string(text) + "'";
        return false;
      }
      if (unit.empty() || iequals(unit, "b")) {
        factor = 1;
      } else if (iequals(unit, "k") || iequals(unit, "kb") || iequals(unit, "kib")) {
        factor = 1024;
      } else if (iequals(unit, "m") || iequals(unit, "mb") || iequals(unit, "mib")) {
        factor = 1024 * 1024;
      } else if (iequals(unit, "g") || iequals(unit, "gb") || iequals(unit, "gib")) {
        factor = 1024LL * 1024 * 1024;
      } else {
        error = "unknown size unit '" + std::string(unit) + "' (use k, m or g)";
        return false;
      }
      std::int64_t bytes = 0;
      if (!checked_multiply(n, factor, bytes) || bytes < d.min || bytes > d.max) {
        error = "expects a size " + range_text(d, " bytes") + ", got '" + std::string(text) + "'";
        return false;
      }
      out = bytes;
      return true;
    }
    case ArgType::duration: {
      std::int64_t n = 0;
      std::string_view unit;
      std::int64_t factor = 1000;
      if (!split_number(text, n, unit) || n < 0) {
        error =
            "expects a duration such as 250ms, 5s, 2m, 1h or 7d, got '" + std::string(text) + "'";
        return false;
      }
      if (unit.empty() || unit == "s") {
        factor = 1000;
      } else if (unit == "ms") {
        factor = 1;
      } else if (unit == "m" || unit == "min") {
        factor = 60 * 1000;
      } else if (unit == "h") {
        factor = 3600 * 1000;
      } else if (unit == "d") {
        factor = 24 * 3600 * 1000;
      } else if (unit == "w") {
        factor = 7 * 24 * 3600 * 1000;
      } else {
        error = "unknown duration unit '" + std::string(unit) + "' (use ms, s, m, h, d or w)";
        return false;
      }
      std::int64_t ms = 0;
      if (!checked_multiply(n, factor, ms) || ms < d.min || ms > d.max) {
        error = "expects a duration " + range_text(d, "ms") + ", got '" + std::string(text) + "'";
        return false;
      }
      out = ms;
      return true;
    }
    case ArgType::enumeration:
      for (std::string_view choice : d.choices) {
        if (iequals(choice, text)) {
          out = std::string(choice);
          return true;
        }
      }
      error = "expects one of";
      for (std::string_view choice : d.choices) {
        error += " ";
        error += choice;
      }
      error += ", got '" + std::string(text) + "'";
      return false;
    case ArgType::path:
    case ArgType::string:
    case ArgType::address:
      if (text.empty()) {
        error = "expects a value";
        return false;
      }
      out = std::string(text);
      return true;
    case ArgType::list: {
      std::vector<std::string> words;
      std::istringstream in{std::string(text)};
      std::string word;
      while (in >> word) {
        words.push_back(word);
      }
      out = std::move(words);
      return true;
    }
    case ArgType::entries:
      if (text.empty()) {
        error = "needs a value (one entry per element)";
        return false;
      }
      // A long rule may wrap: a line break and the indentation around it count as one space.
      out = std::vector<std::string>{fold_line_breaks(text)};
      return true;
  }
  error = "unsupported directive type";
  return false;
}

void Scope::set(const Directive& d, DirectiveValue value, SourceLocation where, std::string text) {
  values_.insert_or_assign(std::string(d.name),
                           Entry{std::move(value), std::move(where), std::move(text)});
}

const std::string* Scope::written_here(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second.text;
}

void Scope::append(const Directive& d, std::vector<std::string> words, SourceLocation where) {
  std::string text;
  for (const std::string& word : words) {
    text += text.empty() ? "" : " ";
    text += word;
  }
  auto it = values_.find(d.name);
  if (it == values_.end()) {
    values_.emplace(std::string(d.name),
                    Entry{std::move(words), std::move(where), std::move(text)});
    return;
  }
  if (!text.empty()) {
    // Entries are written back one element per line (write_effective_config splits them).
    it->second.text += it->second.text.empty() ? "" : (d.type == ArgType::entries ? "\n" : " ");
    it->second.text += text;
  }
  auto& list = std::get<std::vector<std::string>>(it->second.value);
  list.insert(list.end(), std::make_move_iterator(words.begin()),
              std::make_move_iterator(words.end()));
}

const Scope::Entry* Scope::find(std::string_view name) const {
  for (const Scope* s = this; s != nullptr; s = s->parent_) {
    auto it = s->values_.find(name);
    if (it != s->values_.end()) {
      return &it->second;
    }
  }
  return nullptr;
}

const DirectiveValue& Scope::lookup(std::string_view name) const {
  const RegisteredDirective* reg = registry_->find(name);
  if (reg == nullptr) {
    throw std::logic_error("directive '" + std::string(name) + "' was never declared");
  }
  if (const Entry* e = find(name)) {
    return e->value;
  }
  if (!reg->has_default) {
    throw std::logic_error("directive '" + std::string(name) + "' has no default; check is_set()");
  }
  return reg->default_value;
}

void Scope::fill_fields(void* config, const void* type, std::span<const Directive> table) const {
  for (const Directive& d : table) {
    if (d.field.config_type != type || d.field.assign == nullptr) {
      continue;
    }
    if (const Entry* e = find(d.name)) {
      d.field.assign(config, e->value);
    } else if (const RegisteredDirective* reg = registry_->find(d.name); reg && reg->has_default) {
      d.field.assign(config, reg->default_value);
    }
  }
}

bool Scope::flag(std::string_view name) const {
  return std::get<bool>(lookup(name));
}
std::int64_t Scope::integer(std::string_view name) const {
  return std::get<std::int64_t>(lookup(name));
}
std::uint64_t Scope::size(std::string_view name) const {
  return static_cast<std::uint64_t>(std::get<std::int64_t>(lookup(name)));
}
std::chrono::milliseconds Scope::duration(std::string_view name) const {
  return std::chrono::milliseconds(std::get<std::int64_t>(lookup(name)));
}
const std::string& Scope::text(std::string_view name) const {
  return std::get<std::string>(lookup(name));
}
const std::vector<std::string>& Scope::list(std::string_view name) const {
  return std::get<std::vector<std::string>>(lookup(name));
}
const SourceLocation* Scope::set_here(std::string_view name) const {
  auto it = values_.find(name);
  return it == values_.end() ? nullptr : &it->second.where;
}
bool Scope::is_set(std::string_view name) const {
  return find(name) != nullptr;
}
SourceLocation Scope::where(std::string_view name) const {
  const Entry* e = find(name);
  return e != nullptr ? e->where : where_;
}

void DirectiveRegistry::add(std::string_view module, std::span<const Directive> table) {
  for (const Directive& d : table) {
    RegisteredDirective reg{&d, module, {}, false};
    if (d.type == ArgType::entries && d.default_value.empty()) {
      reg.default_value = std::vector<std::string>{};
      reg.has_default = true;
    } else if (!d.default_value.empty() || d.type == ArgType::list) {
      std::string error;
      if (!parse_directive_value(d, d.default_value, reg.default_value, error)) {
        throw std::logic_error("default of " + std::string(d.name) + ": " + error);
      }
      reg.has_default = true;
    }
    if (!by_name_.emplace(std::string(d.name), std::move(reg)).second) {
      throw std::logic_error("directive " + std::string(d.name) + " declared twice");
    }
  }
}

const RegisteredDirective* DirectiveRegistry::find(std::string_view name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &it->second;
}

std::string DirectiveRegistry::suggest(std::string_view unknown) const {
  std::string best;
  std::size_t best_distance = std::max<std::size_t>(3, unknown.size() / 3) + 1;
  for (const auto& [name, reg] : by_name_) {
    const std::size_t distance = edit_distance(unknown, name);
    if (distance < best_distance) {
      best_distance = distance;
      best = name;
    }
  }
  return best;
}

std::vector<const RegisteredDirective*> DirectiveRegistry::sorted() const {
  std::vector<const RegisteredDirective*> all;
  for (const auto& [name, reg] : by_name_) {
    all.push_back(&reg);
  }
  // Names are unique, so a plain sort is already stable.
  std::sort(all.begin(), all.end(), [](const auto* a, const auto* b) {
    return a->module != b->module ? a->module < b->module : a->directive->name < b->directive->name;
  });
  return all;
}

}  // namespace collage
