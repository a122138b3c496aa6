#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <tinyxml2.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <optional>
#include <set>
#include <sstream>
#include <utility>

#include "collage/config.h"
#include "collage/listen_address.h"
#include "collage/metadata.h"
#include "collage/structure.h"

namespace collage {
namespace {

using tinyxml2::XMLAttribute;
using tinyxml2::XMLElement;
using tinyxml2::XMLNode;

// What tinyxml2's error IDs mean, in words a person editing the file understands.
std::string xml_error_words(const tinyxml2::XMLDocument& doc) {
  std::string words;
  switch (doc.ErrorID()) {
    case tinyxml2::XML_ERROR_MISMATCHED_ELEMENT:
      words = "an element is closed by the wrong end tag, or not closed at all";
      break;
    case tinyxml2::XML_ERROR_PARSING_ELEMENT:
      words = "a malformed element (an unclosed '<', or a tag not ended by '>')";
      break;
    case tinyxml2::XML_ERROR_PARSING_ATTRIBUTE:
      words = "a malformed attribute (values need quotes: name=\"value\")";
      break;
    case tinyxml2::XML_ERROR_EMPTY_DOCUMENT: words = "the file is empty"; break;
    case tinyxml2::XML_ERROR_PARSING_TEXT:
      words = "text that is not valid XML (an '&' or '<' needs escaping as &amp; or &lt;)";
      break;
    case tinyxml2::XML_ERROR_PARSING_COMMENT:
      words = "a comment that is not closed by '-->'";
      break;
    case tinyxml2::XML_ERROR_PARSING_CDATA: words = "a CDATA section that is not closed"; break;
    case tinyxml2::XML_ERROR_PARSING_DECLARATION:
      words = "a malformed <?xml ...?> declaration";
      break;
    case tinyxml2::XML_ERROR_PARSING:
      words = "content after the root element, or no root element";
      break;
    default: words = tinyxml2::XMLDocument::ErrorIDToName(doc.ErrorID()); break;
  }
  // tinyxml2's own text ends with what it was reading, e.g. "XMLElement name=Location".
  const std::string_view detail = doc.ErrorStr() != nullptr ? doc.ErrorStr() : "";
  if (const std::size_t colon = detail.find(": "); colon != std::string_view::npos) {
    words += " (near ";
    words += detail.substr(colon + 2);
    words += ")";
  }
  return words;
}

std::optional<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string canonical(const std::string& path) {
  char resolved[PATH_MAX];
  return ::realpath(path.c_str(), resolved) != nullptr ? std::string(resolved) : path;
}

// Included files nest at most this deep (a cycle is caught before, with its chain).
constexpr std::size_t kMaxIncludeDepth = 16;

class Loader {
 public:
  Loader(std::string name, const DirectiveRegistry& directives, const LoadOptions& options,
         ConfigErrors& errors)
      : name_(std::move(name)), directives_(directives), options_(options), errors_(errors) {
    including_.push_back(canonical(name_));
  }

  std::unique_ptr<ServerConfig> load(const std::string& text) {
    text_ = text;
    tinyxml2::XMLDocument doc;
    if (doc.Parse(text.data(), text.size()) != tinyxml2::XML_SUCCESS) {
      errors_.add(at(doc.ErrorLineNum()), "XML is not well-formed: " + xml_error_words(doc));
      return nullptr;
    }
    const XMLElement* root = doc.RootElement();
    if (root == nullptr || std::string_view(root->Name()) != "Collage") {
      errors_.add(root ? at(root) : at(1), "the root element must be <Collage>");
      return nullptr;
    }
    auto config = std::make_unique<ServerConfig>();
    config->file = name_;
    config->scope = std::make_unique<Scope>(directives_, nullptr, at(root));
    check_attributes(root, {});
    collect_defines(root);

    VirtualHostConfig implicit_host;
    implicit_host.name = "*";
    implicit_host.scope = std::make_unique<Scope>(directives_, config->scope.get(), at(root));
    each_child(root, [&](const XMLElement* e) {
      const std::string_view tag = e->Name();
      if (tag == "Define") {
        if (including_.size() > 1) {
          define(e);  // the main file's were read first; an included file's count from here on
        }
      } else if (tag == "LoadModule") {
        load_module_element(e, *config);
      } else if (tag == "Listen") {
        load_listen(e, *config);
      } else if (tag == "VirtualHost") {
        load_virtual_host(e, *config);
      } else if (tag == "Location") {
        load_location(e, implicit_host);
      } else {
        load_directive(e, *config->scope, kServerContext);
      }
    });
    // Locations outside any <VirtualHost>, or no virtual hosts at all, make a catch-all host that
    // comes first and so serves hosts that no other virtual host names.
    if (!implicit_host.locations.empty() || config->virtual_hosts.empty()) {
      config->virtual_hosts.insert(config->virtual_hosts.begin(), std::move(implicit_host));
    }
    for (auto& host : config->virtual_hosts) {
      ensure_root_location(host);
    }
    config->defines = used_;
    if (!errors_.empty() && !options_.keep_going) {
      return nullptr;
    }
    return config;
  }

  // Only the <LoadModule> elements, read before the rest so that the loaded modules' directives
  // are known when the whole file is checked.
  std::vector<ModuleToLoad> scan_modules(const std::string& text) {
    tinyxml2::XMLDocument doc;
    ServerConfig config;
    if (doc.Parse(text.data(), text.size()) != tinyxml2::XML_SUCCESS) {
      return {};
    }
    const XMLElement* root = doc.RootElement();
    if (root == nullptr) {
      return {};
    }
    collect_defines(root);
    for (const XMLElement* e = root->FirstChildElement("LoadModule"); e;
         e = e->NextSiblingElement("LoadModule")) {
      load_module_element(e, config);
    }
    return std::move(config.modules);
  }

 private:
  SourceLocation at(int line) const { return SourceLocation{name_, line}; }
  // Where e starts: its line, and the column of its '<' found in that line of the text.
  SourceLocation at(const XMLElement* e) const {
    SourceLocation where{name_, e->GetLineNum()};
    std::size_t start = 0;
    for (int line = 1; line < where.line && start != std::string_view::npos; ++line) {
      start = text_.find('\n', start);
      start = start == std::string_view::npos ? start : start + 1;
    }
    if (start != std::string_view::npos) {
      const std::string_view line = text_.substr(start, text_.find('\n', start) - start);
      const std::size_t column = line.find("<" + std::string(e->Name()));
      where.column = column == std::string_view::npos ? 0 : static_cast<int>(column) + 1;
    }
    return where;
  }

  void load_module_element(const XMLElement* e, ServerConfig& config) {
    check_attributes(e);
    no_children(e);
    const std::optional<std::string> name = attribute(e, "name", true);
    const std::optional<std::string> path = attribute(e, "path", true);
    if (name && path) {
      config.modules.push_back(ModuleToLoad{*name, *path, at(e)});
    }
  }

  void collect_defines(const XMLElement* root) {
    for (const XMLElement* e = root->FirstChildElement("Define"); e;
         e = e->NextSiblingElement("Define")) {
      define(e);
    }
  }

  void define(const XMLElement* e) {
    check_attributes(e);
    const char* name = e->Attribute("name");
    const char* value = e->Attribute("value");
    if (name == nullptr || value == nullptr) {
      errors_.add(at(e), "<Define> needs name and value attributes");
      return;
    }
    file_defines_[name] = expand(value, e->GetLineNum());
  }

  // Visits parent's child elements in order, with each <Include> replaced by the children of
  // the files it names (recursively).
  void each_child(const XMLElement* parent, const std::function<void(const XMLElement*)>& visit) {
    for (const XMLElement* e = parent->FirstChildElement(); e; e = e->NextSiblingElement()) {
      if (std::string_view(e->Name()) == "Include") {
        include(e, visit);
      } else {
        visit(e);
      }
    }
  }

  void include(const XMLElement* e, const std::function<void(const XMLElement*)>& visit) {
    check_attributes(e);
    no_children(e);
    const std::optional<std::string> written = attribute(e, "path", true);
    if (!written) {
      return;
    }
    std::string pattern = *written;
    if (!pattern.starts_with('/')) {
      const std::size_t slash = name_.rfind('/');
      if (slash != std::string::npos) {
        pattern = name_.substr(0, slash + 1) + pattern;
      }
    }
    std::vector<std::string> files;
    if (pattern.find_first_of("*?[") != std::string::npos) {
      glob_t found{};
      if (::glob(pattern.c_str(), 0, nullptr, &found) == 0) {  // sorted, as ls sorts
        files.assign(found.gl_pathv, found.gl_pathv + found.gl_pathc);
      }
      ::globfree(&found);
    } else {
      files.push_back(pattern);
    }
    for (const std::string& file : files) {
      const std::string real = canonical(file);
      if (std::find(including_.begin(), including_.end(), real) != including_.end()) {
        std::string chain;
        for (const std::string& step : including_) {
          chain += step + " -> ";
        }
        errors_.add(at(e), "an Include cycle: " + chain + real);
        continue;
      }
      if (including_.size() >= kMaxIncludeDepth) {
        errors_.add(at(e),
                    "Includes nest deeper than " + std::to_string(kMaxIncludeDepth) + " files");
        return;
      }
      struct stat st {};
      if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
        // A directory, a device or a pipe (/dev/zero, /dev/stdin) would never end as a file.
        errors_.add(at(e), "the included " + file + " is not a regular file");
        continue;
      }
      const std::optional<std::string> text = read_file(file);
      if (!text) {
        errors_.add(at(e), "cannot read the included file " + file + ": " + std::strerror(errno));
        continue;
      }
      tinyxml2::XMLDocument doc;
      const std::string outer = std::exchange(name_, file);
      const std::string_view outer_text = std::exchange(text_, *text);
      including_.push_back(real);
      if (doc.Parse(text->data(), text->size()) != tinyxml2::XML_SUCCESS) {
        errors_.add(at(doc.ErrorLineNum()), "XML is not well-formed: " + xml_error_words(doc));
      } else if (doc.RootElement() == nullptr ||
                 std::string_view(doc.RootElement()->Name()) != "Collage") {
        errors_.add(doc.RootElement() ? at(doc.RootElement()) : at(1),
                    "the root element of an included file must be <Collage>");
      } else {
        each_child(doc.RootElement(), visit);
      }
      including_.pop_back();
      name_ = outer;
      text_ = outer_text;
    }
  }

  // ${NAME} and ${NAME:-fallback}: -D first, then the environment, then <Define>, then fallback.
  std::optional<std::string> resolve(const std::string& name) const {
    if (auto it = options_.defines.find(name); it != options_.defines.end()) {
      return it->second;
    }
    if (options_.use_environment) {
      if (const char* env = std::getenv(name.c_str())) {
        return std::string(env);
      }
    }
    if (auto it = file_defines_.find(name); it != file_defines_.end()) {
      return it->second;
    }
    return std::nullopt;
  }

  std::string expand(std::string_view text, int line) {
    std::string out;
    std::size_t i = 0;
    while (i < text.size()) {
      if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '{') {
        const std::size_t close = text.find('}', i + 2);
        if (close == std::string_view::npos) {
          errors_.add(at(line), "unterminated ${ in '" + std::string(text) + "'");
          return out;
        }
        std::string inner(text.substr(i + 2, close - i - 2));
        std::optional<std::string> fallback;
        if (auto sep = inner.find(":-"); sep != std::string::npos) {
          fallback = inner.substr(sep + 2);
          inner.resize(sep);
        }
        std::optional<std::string> value = resolve(inner);
        if (!value) {
          value = fallback;
        }
        if (!value) {
          errors_.add(at(line), "${" + inner + "} is not defined (use -D " + inner +
                                    "=..., a <Define>, or the environment)");
        } else {
          used_[inner] = *value;
          out += *value;
        }
        i = close + 1;
      } else {
        out += text[i++];
      }
    }
    return out;
  }

  // Attributes of a structural element, as its row in structure.cpp declares them.
  void check_attributes(const XMLElement* e) {
    const ElementSpec* spec = find_structural_element(e->Name());
    for (const XMLAttribute* a = e->FirstAttribute(); a; a = a->Next()) {
      bool ok = false;
      for (const AttributeSpec& allowed : spec->attributes) {
        ok = ok || allowed.name == a->Name();
      }
      if (!ok) {
        errors_.add(at(e),
                    "unknown attribute '" + std::string(a->Name()) + "' on <" + e->Name() + ">");
      }
    }
  }

  void check_attributes(const XMLElement* e, std::initializer_list<std::string_view> allowed) {
    for (const XMLAttribute* a = e->FirstAttribute(); a; a = a->Next()) {
      bool ok = false;
      for (std::string_view name : allowed) {
        ok = ok || name == a->Name();
      }
      if (!ok) {
        errors_.add(at(e),
                    "unknown attribute '" + std::string(a->Name()) + "' on <" + e->Name() + ">");
      }
    }
  }

  std::optional<std::string> attribute(const XMLElement* e, const char* name, bool required) {
    const char* value = e->Attribute(name);
    if (value == nullptr) {
      if (required) {
        errors_.add(at(e), "<" + std::string(e->Name()) + "> needs a '" + name + "' attribute");
      }
      return std::nullopt;
    }
    return expand(value, e->GetLineNum());
  }

  void load_listen(const XMLElement* e, ServerConfig& config) {
    check_attributes(e);
    no_children(e);
    ListenConfig listen;
    listen.where = at(e);
    listen.protocol = attribute(e, "protocol", true).value_or("");
    listen.address = attribute(e, "address", false).value_or("0.0.0.0");
    if (listen.unix_socket()) {
      load_unix_listen(e, listen);
    } else if (std::string error; resolve_listen_address(listen.address, error).empty()) {
      errors_.add(at(e), error);
    }
    listen.host = attribute(e, "host", false).value_or("");
    const std::string tls = attribute(e, "tls", false).value_or("off");
    if (tls == "on") {
      listen.tls = true;
    } else if (tls != "off") {
      errors_.add(at(e), "tls must be on or off, got '" + tls + "'");
    }
    const std::string proxy = attribute(e, "proxy_protocol", false).value_or("off");
    if (proxy == "on") {
      listen.proxy_protocol = true;
    } else if (proxy != "off") {
      errors_.add(at(e), "proxy_protocol must be on or off, got '" + proxy + "'");
    }
    for (char& c : listen.host) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    const std::string admin = attribute(e, "admin", false).value_or("off");
    if (admin == "on") {
      listen.admin = true;
    } else if (admin != "off") {
      errors_.add(at(e), "admin must be on or off, got '" + admin + "'");
    }
    const std::string port = attribute(e, "port", !listen.unix_socket()).value_or("");
    char* end = nullptr;
    const long number = std::strtol(port.c_str(), &end, 10);
    if (listen.unix_socket()) {
      if (!port.empty()) {
        errors_.add(listen.where, "a unix: socket has no port; leave port out");
      }
    } else if (port.empty() || *end != '\0' || number < 0 || number > 65535) {
      if (!port.empty()) {
        errors_.add(listen.where, "port must be a number from 0 to 65535, got '" + port + "'");
      }
    } else {
      listen.port = static_cast<std::uint16_t>(number);
    }
    if (const auto public_port = attribute(e, "public_port", false)) {
      char* public_end = nullptr;
      const long value = std::strtol(public_port->c_str(), &public_end, 10);
      if (public_port->empty() || *public_end != '\0' || value < 1 || value > 65535) {
        errors_.add(listen.where,
                    "public_port must be a number from 1 to 65535, got '" + *public_port + "'");
      } else {
        listen.public_port = static_cast<std::uint16_t>(value);
      }
    }
    config.listeners.push_back(std::move(listen));
  }

  // address="unix:PATH": a path that fits a socket address (relative ones from the directory the
  // server started in, like every path here), a mode in octal, an owner and a group by name.
  void load_unix_listen(const XMLElement* e, ListenConfig& listen) {
    if (listen.unix_path().empty() || listen.unix_path().size() > 107) {
      errors_.add(
          at(e), "a unix: socket needs a path of 1 to 107 bytes, got '" + listen.unix_path() + "'");
    }
    listen.mode = attribute(e, "mode", false).value_or("");
    if (!listen.mode.empty() && (listen.mode.size() > 4 ||
                                 listen.mode.find_first_not_of("01234567") != std::string::npos)) {
      errors_.add(at(e),
                  "mode must be permission bits in octal such as 0660, got '" + listen.mode + "'");
    }
    listen.owner = attribute(e, "owner", false).value_or("");
    listen.group = attribute(e, "group", false).value_or("");
  }

  void load_virtual_host(const XMLElement* e, ServerConfig& config) {
    check_attributes(e);
    VirtualHostConfig host;
    host.name = attribute(e, "name", true).value_or("");
    for (char& c : host.name) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    for (const auto& existing : config.virtual_hosts) {
      if (!host.name.empty() && existing.name == host.name) {
        errors_.add(at(e), "VirtualHost " + host.name + " is defined twice (first at " +
                               existing.scope->where().str() + ")");
      }
    }
    host.scope = std::make_unique<Scope>(directives_, config.scope.get(), at(e));
    each_child(e, [&](const XMLElement* c) {
      if (std::string_view(c->Name()) == "Location") {
        load_location(c, host);
      } else {
        load_directive(c, *host.scope, kVirtualHostContext);
      }
    });
    config.virtual_hosts.push_back(std::move(host));
  }

  void load_location(const XMLElement* e, VirtualHostConfig& host) {
    check_attributes(e);
    LocationConfig location;
    location.path = attribute(e, "path", true).value_or("/");
    const bool named = location.path.size() > 1 && location.path.front() == '@' &&
                       location.path.find_first_of("/ \t") == std::string::npos;
    if (!named && (location.path.empty() || location.path.front() != '/')) {
      errors_.add(at(e),
                  "Location path must start with '/' (or be a name such as @front, for a named "
                  "location)");
    }
    while (location.path.size() > 1 && location.path.back() == '/') {
      location.path.pop_back();
    }
    for (const auto& existing : host.locations) {
      if (existing.path == location.path) {
        errors_.add(at(e), "Location " + location.path + " is defined twice");
      }
    }
    location.scope = std::make_unique<Scope>(directives_, host.scope.get(), at(e));
    each_child(e,
               [&](const XMLElement* c) { load_directive(c, *location.scope, kLocationContext); });
    host.locations.push_back(std::move(location));
  }

  void ensure_root_location(VirtualHostConfig& host) {
    for (const auto& location : host.locations) {
      if (location.path == "/") {
        return;
      }
    }
    LocationConfig root;
    root.path = "/";
    root.scope = std::make_unique<Scope>(directives_, host.scope.get(), host.scope->where());
    host.locations.push_back(std::move(root));
  }

  void no_children(const XMLElement* e) {
    if (e->FirstChildElement() != nullptr) {
      errors_.add(at(e->FirstChildElement()),
                  "<" + std::string(e->Name()) + "> takes no child elements");
    }
  }

  static std::string_view context_name(unsigned context) {
    switch (context) {
      case kServerContext: return "the server level";
      case kVirtualHostContext: return "<VirtualHost>";
      default: return "<Location>";
    }
  }

  void load_directive(const XMLElement* e, Scope& scope, unsigned context) {
    const std::string_view name = e->Name();
    const SourceLocation where = at(e);
    if (find_structural_element(name) != nullptr) {
      errors_.add(where, "<" + std::string(name) + "> is not allowed inside " +
                             std::string(context_name(context)));
      return;
    }
    const RegisteredDirective* reg = directives_.find(name);
    if (reg == nullptr) {
      std::string message = "unknown directive '" + std::string(name) + "'";
      if (std::string hint = directives_.suggest(name); !hint.empty()) {
        message += ", did you mean '" + hint + "'?";
      }
      errors_.add(where, message);
      return;
    }
    const Directive& d = *reg->directive;
    if ((d.contexts & context) == 0) {
      errors_.add(where,
                  std::string(name) + " is not allowed in " + std::string(context_name(context)));
      return;
    }
    check_attributes(e, {});
    no_children(e);
    const char* raw = e->GetText();
    const std::string text = expand(raw ? raw : "", e->GetLineNum());
    DirectiveValue value;
    std::string error;
    if (!parse_directive_value(d, text, value, error)) {
      errors_.add(where, std::string(name) + " " + error);
      return;
    }
    if (const SourceLocation* first = scope.set_here(name);
        first && d.type != ArgType::list && d.type != ArgType::entries) {
      errors_.add(where, std::string(name) + " is given twice here (first at " + first->str() +
                             "); keep one");
      return;
    }
    if (d.type == ArgType::list || d.type == ArgType::entries) {
      scope.append(d, std::get<std::vector<std::string>>(std::move(value)), where);
    } else {
      scope.set(d, std::move(value), where, text);
    }
  }

  std::string name_;
  std::string_view text_;  // of the file being read (name_), for columns
  const DirectiveRegistry& directives_;
  const LoadOptions& options_;
  ConfigErrors& errors_;
  std::map<std::string, std::string> file_defines_;
  std::map<std::string, std::string> used_;
  std::vector<std::string> including_;  // the files being read, outermost first (real paths)
};

}  // namespace

std::unique_ptr<ServerConfig> load_config_text(const std::string& text, const std::string& name,
                                               const DirectiveRegistry& directives,
                                               const LoadOptions& options, ConfigErrors& errors) {
  Loader loader(name, directives, options, errors);
  return loader.load(text);
}

std::vector<ModuleToLoad> scan_load_modules(const std::string& path, const LoadOptions& options,
                                            ConfigErrors& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return {};
  }
  std::ostringstream text;
  text << in.rdbuf();
  DirectiveRegistry none;
  Loader loader(path, none, options, errors);
  return loader.scan_modules(text.str());
}

std::vector<ModuleToLoad> scan_load_modules_text(const std::string& text, const std::string& name,
                                                 const LoadOptions& options, ConfigErrors& errors) {
  DirectiveRegistry none;
  Loader loader(name, none, options, errors);
  return loader.scan_modules(text);
}

std::unique_ptr<ServerConfig> load_config_file(const std::string& path,
                                               const DirectiveRegistry& directives,
                                               const LoadOptions& options, ConfigErrors& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    errors.add(SourceLocation{path, 0},
               std::string("cannot open the configuration file: ") + std::strerror(errno) +
                   "; name one with -f FILE (from a checkout: collage -f examples/collage.xml)");
    return nullptr;
  }
  std::ostringstream text;
  text << in.rdbuf();
  return load_config_text(text.str(), path, directives, options, errors);
}

}  // namespace collage
