#pragma once
// Typed directives. Every module declares its directives in one table next to its code; the XML
// loader, the error messages, docs/configuration.md and the schema all come from those tables.

#include <chrono>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
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
  entries,      // one rule per element, kept whole (line breaks fold to spaces); repeat to add
};

std::string_view arg_type_name(ArgType type);

// Where a directive may appear. A value set in an outer context is inherited by inner ones.
enum ContextBits : unsigned {
  kServerContext = 1u << 0,
  kVirtualHostContext = 1u << 1,
  kLocationContext = 1u << 2,
};
inline constexpr unsigned kAnyContext = kServerContext | kVirtualHostContext | kLocationContext;

// A parsed value. size → bytes, duration → milliseconds, enumeration/path/string/address → text.
using DirectiveValue = std::variant<bool, std::int64_t, std::string, std::vector<std::string>>;

// Where a directive's value goes: a typed field of a module's configuration struct. Made with
// bind<&Config::field>(); Scope::fill() writes every bound field of one struct at once, so a
// module never looks a value up by name and a misspelt name cannot reach a running server.
struct FieldBinding {
  const void* config_type = nullptr;  // which struct (config_type_tag<Config>())
  void (*assign)(void* config, const DirectiveValue& value) = nullptr;
};

template <typename Config>
const void* config_type_tag() {
  static const char tag = 0;
  return &tag;
}

namespace detail {

template <typename T>
struct is_optional : std::false_type {};
template <typename T>
struct is_optional<std::optional<T>> : std::true_type {};
template <typename T>
struct is_duration : std::false_type {};
template <typename R, typename P>
struct is_duration<std::chrono::duration<R, P>> : std::true_type {};

template <typename T>
void assign_value(T& field, const DirectiveValue& value) {
  if constexpr (is_optional<T>::value) {
    typename T::value_type inner{};
    assign_value(inner, value);
    field = std::move(inner);
  } else if constexpr (std::is_same_v<T, bool>) {
    field = std::get<bool>(value);
  } else if constexpr (std::is_integral_v<T>) {
    field = static_cast<T>(std::get<std::int64_t>(value));
  } else if constexpr (is_duration<T>::value) {
    field = std::chrono::duration_cast<T>(std::chrono::milliseconds(std::get<std::int64_t>(value)));
  } else if constexpr (std::is_same_v<T, std::string>) {
    field = std::get<std::string>(value);
  } else {
    static_assert(std::is_same_v<T, std::vector<std::string>>, "unsupported field type");
    field = std::get<std::vector<std::string>>(value);
  }
}

template <typename M>
struct member_of;
template <typename C, typename T>
struct member_of<T C::*> {
  using config = C;
  using type = T;
};

template <auto First, auto... Rest, typename C>
auto& member_path(C& c) {
  if constexpr (sizeof...(Rest) == 0) {
    return c.*First;
  } else {
    return member_path<Rest...>(c.*First);
  }
}

}  // namespace detail

// bind<&Settings::keep_alive_timeout>(): the directive's value goes to that field; a path of
// members reaches into nested structs (bind<&Settings::limits, &Limits::max_fields>()). Field
// types: bool (flag), integral types (integer, size), std::chrono durations (duration),
// std::string (enumeration, path, string, address), std::vector<std::string> (list, entries), and
// std::optional of any of them (left empty when the directive is unset and has no default).
template <auto First, auto... Rest>
FieldBinding bind() {
  using Config = typename detail::member_of<decltype(First)>::config;
  return {config_type_tag<Config>(), [](void* config, const DirectiveValue& value) {
            detail::assign_value(detail::member_path<First, Rest...>(*static_cast<Config*>(config)),
                                 value);
          }};
}

struct Directive {
  std::string_view name;
  ArgType type = ArgType::string;
  unsigned contexts = kServerContext;
  std::string_view default_value;  // parsed like a config value; empty means "unset"
  std::string_view help;           // one line, for the docs and `collage -h`
  std::int64_t min = 0;            // integer/size/duration (in ms) lower bound
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
  std::span<const std::string_view> choices = {};  // enumeration values
  FieldBinding field = {};                         // where the value goes (bind<&C::f>())
};

// Parses text for directive d; on failure returns false and sets error to a message that names
// the expected form.
bool parse_directive_value(const Directive& d, std::string_view text, DirectiveValue& out,
                           std::string& error);

struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;  // of the element's '<', from 1; 0 when not known
  // "file:line:column", "file:line", or just "file" for what concerns the whole file (line 0).
  std::string str() const {
    return line <= 0     ? file
           : column <= 0 ? file + ":" + std::to_string(line)
                         : file + ":" + std::to_string(line) + ":" + std::to_string(column);
  }
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
  struct Located {
    SourceLocation where;
    std::string message;  // without the location
  };

  void add(const SourceLocation& where, std::string message) {
    messages_.push_back(where.str() + ": " + message);
    located_.push_back(Located{where, std::move(message)});
  }
  bool empty() const { return messages_.empty(); }
  const std::vector<std::string>& messages() const { return messages_; }
  const std::vector<Located>& located() const { return located_; }

 private:
  std::vector<std::string> messages_;
  std::vector<Located> located_;
};

class DirectiveRegistry;

// The directives set in one context (server, virtual host or location). Lookups fall back to the
// enclosing scope and finally to the directive's default. Asking for a directive that no module
// declared is a programming error and throws std::logic_error.
class Scope {
 public:
  Scope(const DirectiveRegistry& registry, const Scope* parent, SourceLocation where)
      : registry_(&registry), parent_(parent), where_(std::move(where)) {}

  // `text` is the value as written (after ${NAME} expansion), kept so the configuration can be
  // written back out exactly, units and all.
  void set(const Directive& d, DirectiveValue value, SourceLocation where, std::string text = {});
  // Appends to a list directive, starting from an empty list in this scope.
  void append(const Directive& d, std::vector<std::string> words, SourceLocation where);
  // The text of a directive set in this very scope, or null.
  const std::string* written_here(std::string_view name) const;
  bool empty_here() const { return values_.empty(); }

  // Writes every field that `table` binds into Config: the value set here or in an enclosing
  // scope, else the directive's default; fields of unset directives without a default keep
  // what they had.
  template <typename Config>
  void fill(Config& config, std::span<const Directive> table) const {
    fill_fields(&config, config_type_tag<Config>(), table);
  }
  template <typename Config>
  Config read(std::span<const Directive> table) const {
    Config config{};
    fill(config, table);
    return config;
  }

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
    std::string text;
  };
  const DirectiveValue& lookup(std::string_view name) const;
  const Entry* find(std::string_view name) const;
  void fill_fields(void* config, const void* type, std::span<const Directive> table) const;

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
