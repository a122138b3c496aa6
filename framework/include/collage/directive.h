#pragma once
// Typed directives. Every module declares its directives in one table next to its code; the XML
// loader, the error messages, docs/configuration.md and the schema all come from those tables.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace collage {

enum class ArgType : std::uint8_t {
  flag,         // on|off (also true/false, yes/no)
  integer,      // whole number within [min, max]
  size,         // bytes with an optional unit: 512, 64k, 10m, 1g
  duration,     // 250ms, 5s, 2m, 1h; a bare number means seconds
  enumeration,  // one of `choices`
  path,         // a file system path, relative paths resolve against the server root
  string,       // free text (a name, a media type)
  address,      // host:port or host
  list,         // whitespace-separated words; repeating the element appends
};

std::string_view arg_type_name(ArgType type);

// Where a directive may appear. A value set in an outer context is inherited by inner ones.
enum ContextBits : unsigned {
  kServerContext = 1u << 0,
  kVirtualHostContext = 1u << 1,
  kLocationContext = 1u << 2,
};
inline constexpr unsigned kAnyContext = kServerContext | kVirtualHostContext | kLocationContext;

struct Directive {
  std::string_view name;
  ArgType type = ArgType::string;
  unsigned contexts = kServerContext;
  std::string_view default_value;  // parsed like a config value; empty means "unset"
  std::string_view help;           // one line, for the docs and `collage -h`
  std::int64_t min = 0;            // integer/size/duration (in ms) lower bound
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::span<const std::string_view> choices = {};  // enumeration values
};

// A parsed value. size → bytes, duration → milliseconds, enumeration/path/string/address → text.
using DirectiveValue = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;

// Parses text for directive d; on failure returns false and sets error to a message that names
// the expected form.
bool parse_directive_value(const Directive& d, std::string_view text, DirectiveValue& out,
                           std::string& error);

struct SourceLocation {
  std::string file;
  int line = 0;
  // "file:line", or just "file" for what concerns the whole file (line 0).
  std::string str() const { return line > 0 ? file + ":" + std::to_string(line) : file; }
};

// Thrown only while loading configuration, never on the data path.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(const SourceLocation& where, const std::string& message)
      : std::runtime_error(where.str() + ": " + message) {}
};

// Collects every error of a load so `collage -t` can report them all at once.
class ConfigErrors {
 public:
  void add(const SourceLocation& where, std::string message) {
    messages_.push_back(where.str() + ": " + std::move(message));
  }
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }

 private:
  std::vector<std::string> messages_;
};

class DirectiveRegistry;

// The directives set in one context (server, virtual host or location). Lookups fall back to the
// enclosing scope and finally to the directive's default. Asking for a directive that no module
// declared is a programming error and throws std::logic_error.
class Scope {
 public:
  Scope(const DirectiveRegistry& registry, const Scope* parent, SourceLocation where)
      : registry_(&registry), parent_(parent), where_(std::move(where)) {}

  void set(const Directive& d, DirectiveValue value, SourceLocation where);
  // Appends to a list directive, starting from an empty list in this scope.
  void append(const Directive& d, std::vector<std::string> words, SourceLocation where);

  bool flag(std::string_view name) const;
  std::int64_t integer(std::string_view name) const;
  std::uint64_t size(std::string_view name) const;
  std::chrono::milliseconds duration(std::string_view name) const;
  // enumeration, path, string and address values.
  const std::string& text(std::string_view name) const;
  const std::vector<std::string>& list(std::string_view name) const;

  // True when the directive was set in this scope or an enclosing one (not just defaulted).
  bool is_set(std::string_view name) const;
  // Where the directive was set in this very scope (not an enclosing one), or null.
  const SourceLocation* set_here(std::string_view name) const;
  // Where the directive was set, or this scope's own location when it was not.
  SourceLocation where(std::string_view name) const;
  const SourceLocation& where() const { return where_; }
  const Scope* parent() const { return parent_; }

 private:
  struct Entry {
    DirectiveValue value;
    SourceLocation where;
  };
  const DirectiveValue& lookup(std::string_view name) const;
  const Entry* find(std::string_view name) const;

  const DirectiveRegistry* registry_;
  const Scope* parent_;
  SourceLocation where_;
  std::map<std::string, Entry, std::less<>> values_;
};

struct RegisteredDirective {
  const Directive* directive;
  std::string_view module;
  DirectiveValue default_value;
  bool has_default = false;
};

class DirectiveRegistry {
 public:
  // Throws std::logic_error for a duplicate name or a default that does not parse.
  void add(std::string_view module, std::span<const Directive> table);
  const RegisteredDirective* find(std::string_view name) const;
  // Closest known directive name for "did you mean" hints; empty if none is close.
  std::string suggest(std::string_view unknown) const;
  // All directives, sorted by module then name.
  std::vector<const RegisteredDirective*> sorted() const;

 private:
  std::map<std::string, RegisteredDirective, std::less<>> by_name_;
};

}  // namespace collage
