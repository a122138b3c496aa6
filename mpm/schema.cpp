#include "schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "collage/path.h"
#include "collage/structure.h"
#include "directive_reference.h"

namespace collage {
namespace {

// A ${NAME} or ${NAME:-fallback} anywhere in a value: it may stand for any typed value, which
// XSD 1.0 cannot check, so every typed value is a union with this form. XSD's regular
// expressions have no $ anchor to escape; ECMA's (JSON Schema) do.
constexpr std::string_view kXsdVariable = R"(.*$\{[^}]+\}.*)";
constexpr std::string_view kJsonVariable = R"([\s\S]*\$\{[^}]+\}[\s\S]*)";

// "on" -> "[Oo][Nn]": the loader compares words without regard to case, so the schema must too.
std::string caseless(std::string_view word) {
  std::string out;
  for (const char c : word) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
      const char lower = static_cast<char>(c | 0x20);
      out += '[';
      out += static_cast<char>(lower - 32);
      out += lower;
      out += ']';
    } else if ((c >= '0' && c <= '9') || c == '_') {
      out += c;
    } else {
      out += '\\';
      out += c;
    }
  }
  return out;
}

// The value forms the loader accepts, as one regular expression (no anchors; XSD anchors its
// patterns, the JSON Schema writer adds ^ and $). Empty: any text.
std::string value_pattern(ArgType type, std::span<const std::string_view> choices) {
  switch (type) {
    case ArgType::flag:
      return caseless("on") + "|" + caseless("off") + "|" + caseless("true") + "|" +
             caseless("false") + "|" + caseless("yes") + "|" + caseless("no");
    case ArgType::integer: return "-?[0-9]+";
    case ArgType::size: return "[0-9]+([bB]|[kKmMgG]([bB]|[iI][bB])?)?";
    case ArgType::duration: return "[0-9]+(ms|s|m|min|h|d|w)?";
    case ArgType::enumeration: {
      std::string out;
      for (const std::string_view choice : choices) {
        out += out.empty() ? "" : "|";
        out += caseless(choice);
      }
      return out;
    }
    case ArgType::entries: return ".*[^ \t\r\n].*";
    default: return {};
  }
}

std::string escaped(std::string_view text) {
  std::string out;
  append_html_escaped(text, out);
  return out;
}

std::string directive_doc(const Directive& d) {
  std::string doc = std::string(d.help) + " Type: " + std::string(arg_type_name(d.type));
  if (d.min != 0 || d.max != std::numeric_limits<std::int64_t>::max()) {
    doc += fmt::format(" ({} to {}{})", d.min,
                       d.max == std::numeric_limits<std::int64_t>::max() ? std::string("no limit")
                                                                         : std::to_string(d.max),
                       d.type == ArgType::duration ? " ms"
                       : d.type == ArgType::size   ? " bytes"
                                                   : "");
  }
  doc += ". Contexts: " + contexts_text(d.contexts) + ".";
  if (!d.default_value.empty()) {
    doc += " Default: " + std::string(d.default_value) + ".";
  }
  return doc;
}

std::string attribute_doc(const AttributeSpec& a) {
  std::string doc = std::string(a.help) + " Type: " + std::string(arg_type_name(a.type)) + ".";
  if (!a.default_value.empty()) {
    doc += " Default: " + std::string(a.default_value) + ".";
  }
  return doc;
}

// ---- XSD ----

// A simple type: the value forms of `type` (with a numeric range where the loader checks one
// on the number as written), or a ${VARIABLE}.
std::string xsd_simple_type(ArgType type, std::span<const std::string_view> choices,
                            std::int64_t min, std::int64_t max, bool exact_flag) {
  const std::string pattern = exact_flag ? std::string("on|off") : value_pattern(type, choices);
  std::string typed;
  if (type == ArgType::integer && (min != 0 || max != std::numeric_limits<std::int64_t>::max())) {
    typed = fmt::format(
        "<xs:simpleType><xs:restriction base=\"xs:long\"><xs:minInclusive value=\"{}\"/>"
        "{}</xs:restriction></xs:simpleType>",
        min,
        max == std::numeric_limits<std::int64_t>::max()
            ? std::string()
            : fmt::format("<xs:maxInclusive value=\"{}\"/>", max));
  } else if (!pattern.empty()) {
    typed = fmt::format(
        "<xs:simpleType><xs:restriction base=\"xs:token\"><xs:pattern value=\"{}\"/>"
        "</xs:restriction></xs:simpleType>",
        escaped(pattern));
  } else {
    return "<xs:simpleType><xs:restriction base=\"xs:string\"/></xs:simpleType>";
  }
  return "<xs:simpleType><xs:union memberTypes=\"variable\">" + typed +
         "</xs:union></xs:simpleType>";
}

void xsd_directive(const Directive& d, std::string& out) {
  fmt::format_to(std::back_inserter(out),
                 "      <xs:element name=\"{}\">\n        <xs:annotation><xs:documentation>{}"
                 "</xs:documentation></xs:annotation>\n        {}\n      </xs:element>\n",
                 d.name, escaped(directive_doc(d)),
                 xsd_simple_type(d.type, d.choices, d.min, d.max, false));
}

void xsd_attributes(const ElementSpec& e, std::string& out) {
  for (const AttributeSpec& a : e.attributes) {
    fmt::format_to(std::back_inserter(out),
                   "    <xs:attribute name=\"{}\" use=\"{}\">\n      <xs:annotation>"
                   "<xs:documentation>{}</xs:documentation></xs:annotation>\n      {}\n"
                   "    </xs:attribute>\n",
                   a.name, a.required ? "required" : "optional", escaped(attribute_doc(a)),
                   xsd_simple_type(a.type, {}, a.min, a.max, a.type == ArgType::flag));
  }
}

const ElementSpec& element(std::string_view name) {
  return *find_structural_element(name);
}

}  // namespace

std::string xml_schema(const Registry& registry) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- Generated by collage's schema option (xsd) from the directive registry and the\n"
      "     modules loaded with it; do not edit. xmllint checks a configuration against it\n"
      "     (docs/configuration.md shows the command).\n"
      "     What XSD 1.0 cannot say, and the loader checks besides:\n"
      "     - ${NAME} may stand for any value, so every typed value also accepts text holding\n"
      "       ${...}; the loader checks the value once it is expanded.\n"
      "     - Elements may come in any order and repeat (a choice), but a directive that is not\n"
      "       a list or entries may be given once per element that holds it.\n"
      "     - Size and duration ranges are checked on the value with its unit.\n"
      "     - A file read by <Include> inside a <VirtualHost> or <Location> holds that context's\n"
      "       elements under its <Collage> root, which this schema (server context) refuses.\n"
      "     - Which protocols, stores, filters and MPMs exist (collage -l) is known at load. -->\n"
      "<xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" "
      "elementFormDefault=\"qualified\">\n"
      "  <xs:simpleType name=\"variable\"><xs:restriction base=\"xs:token\">"
      "<xs:pattern value=\"" +
      escaped(kXsdVariable) + "\"/></xs:restriction></xs:simpleType>\n";
  for (const auto& [group, context] :
       {std::pair{"server", kServerContext}, std::pair{"virtualHost", kVirtualHostContext},
        std::pair{"location", kLocationContext}}) {
    fmt::format_to(std::back_inserter(out), "  <xs:group name=\"{}Directives\">\n    <xs:choice>\n",
                   group);
    for (const RegisteredDirective* reg : registry.directives().sorted()) {
      if ((reg->directive->contexts & context) != 0) {
        xsd_directive(*reg->directive, out);
      }
    }
    out +=
        "      <xs:element name=\"Include\" type=\"include\"/>\n    </xs:choice>\n"
        "  </xs:group>\n";
  }
  for (const auto& [name, type] :
       {std::pair{"Listen", "listen"}, std::pair{"LoadModule", "loadModule"},
        std::pair{"Define", "define"}, std::pair{"Include", "include"}}) {
    fmt::format_to(std::back_inserter(out),
                   "  <xs:complexType name=\"{}\">\n    <xs:annotation><xs:documentation>{}"
                   "</xs:documentation></xs:annotation>\n",
                   type, escaped(element(name).help));
    xsd_attributes(element(name), out);
    out += "  </xs:complexType>\n";
  }
  out += "  <xs:complexType name=\"location\">\n    <xs:annotation><xs:documentation>" +
         escaped(element("Location").help) +
         "</xs:documentation></xs:annotation>\n"
         "    <xs:group ref=\"locationDirectives\" minOccurs=\"0\" maxOccurs=\"unbounded\"/>\n";
  xsd_attributes(element("Location"), out);
  out += "  </xs:complexType>\n";
  out += "  <xs:complexType name=\"virtualHost\">\n    <xs:annotation><xs:documentation>" +
         escaped(element("VirtualHost").help) +
         "</xs:documentation></xs:annotation>\n"
         "    <xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\">\n"
         "      <xs:group ref=\"virtualHostDirectives\"/>\n"
         "      <xs:element name=\"Location\" type=\"location\"/>\n    </xs:choice>\n";
  xsd_attributes(element("VirtualHost"), out);
  out += "  </xs:complexType>\n";
  out +=
      "  <xs:element name=\"Collage\">\n"
      "    <xs:annotation><xs:documentation>A Collage configuration: server-wide directives, "
      "listeners, virtual hosts and locations.</xs:documentation></xs:annotation>\n"
      "    <xs:complexType>\n      <xs:choice minOccurs=\"0\" maxOccurs=\"unbounded\">\n"
      "        <xs:group ref=\"serverDirectives\"/>\n"
      "        <xs:element name=\"Listen\" type=\"listen\"/>\n"
      "        <xs:element name=\"LoadModule\" type=\"loadModule\"/>\n"
      "        <xs:element name=\"Define\" type=\"define\"/>\n"
      "        <xs:element name=\"VirtualHost\" type=\"virtualHost\"/>\n"
      "        <xs:element name=\"Location\" type=\"location\"/>\n"
      "      </xs:choice>\n    </xs:complexType>\n  </xs:element>\n</xs:schema>\n";
  return out;
}

// ---- JSON Schema ----

namespace {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

// One value: the forms the loader takes, or a ${VARIABLE}; lists and entries are arrays, whole
// numbers are JSON numbers within their range.
std::string json_value(ArgType type, std::span<const std::string_view> choices, bool exact_flag,
                       std::string_view doc, std::int64_t min = 0,
                       std::int64_t max = std::numeric_limits<std::int64_t>::max()) {
  if (type == ArgType::integer) {
    return fmt::format(
        "{{\"description\": {}, \"anyOf\": [{{\"type\": \"integer\", \"minimum\": {}{}}}, "
        "{{\"type\": \"string\", \"pattern\": {}}}]}}",
        json_string(doc), min,
        max == std::numeric_limits<std::int64_t>::max() ? std::string()
                                                        : fmt::format(", \"maximum\": {}", max),
        json_string("^" + std::string(kJsonVariable) + "$"));
  }
  const std::string pattern = exact_flag ? std::string("on|off") : value_pattern(type, choices);
  std::string one = "{\"type\": \"string\"";
  if (!pattern.empty()) {
    one +=
        ", \"pattern\": " + json_string("^(" + pattern + ")$|^" + std::string(kJsonVariable) + "$");
  }
  one += "}";
  if (type == ArgType::list || type == ArgType::entries) {
    return "{\"description\": " + json_string(doc) + ", \"type\": \"array\", \"items\": " + one +
           "}";
  }
  one.insert(1, "\"description\": " + json_string(doc) + ", ");
  return one;
}

void json_scope(const Registry& registry, unsigned context, std::string& out) {
  bool first = true;
  for (const RegisteredDirective* reg : registry.directives().sorted()) {
    const Directive& d = *reg->directive;
    if ((d.contexts & context) == 0) {
      continue;
    }
    out += first ? "\n" : ",\n";
    first = false;
    out += "        " + json_string(d.name) + ": " +
           json_value(d.type, d.choices, false, directive_doc(d), d.min, d.max);
  }
}

std::string json_attributes(const ElementSpec& e) {
  std::string out;
  for (const AttributeSpec& a : e.attributes) {
    out += ",\n        " + json_string(a.name) + ": " +
           json_value(a.type, {}, a.type == ArgType::flag, attribute_doc(a), a.min, a.max);
  }
  return out;
}

std::string json_required(const ElementSpec& e) {
  std::string out;
  for (const AttributeSpec& a : e.attributes) {
    if (a.required) {
      out += (out.empty() ? "" : ", ") + json_string(a.name);
    }
  }
  return "[" + out + "]";
}

std::string json_array_of(std::string_view def) {
  return fmt::format("{{\"type\": \"array\", \"items\": {{\"$ref\": \"#/$defs/{}\"}}}}", def);
}

}  // namespace

std::string json_schema(const Registry& registry) {
  std::string out =
      "{\n  \"$schema\": \"https://json-schema.org/draft/2020-12/schema\",\n"
      "  \"$id\": \"https://collage.invalid/schema/configuration.json\",\n"
      "  \"title\": \"Collage configuration (JSON form)\",\n"
      "  \"description\": " +
      json_string(
          "Generated by collage --schema json from the directive registry. The JSON form "
          "mirrors the XML: each scope is an object whose keys are directives (a string; list "
          "and entries directives are arrays, one item per element) and structural elements "
          "(arrays of objects holding their attributes and, for VirtualHost and Location, "
          "their own scope). A value may hold ${NAME}, checked once expanded. Rules JSON "
          "Schema cannot say are the loader's: a directive given once per scope, ranges of "
          "sizes and durations with units, which protocols and stores exist.") +
      ",\n  \"$ref\": \"#/$defs/server\",\n  \"$defs\": {\n";
  const std::string include = ",\n        \"Include\": " + json_array_of("include");
  out +=
      "    \"server\": {\n      \"type\": \"object\", \"additionalProperties\": false,\n"
      "      \"properties\": {";
  json_scope(registry, kServerContext, out);
  out += ",\n        \"Listen\": " + json_array_of("listen") +
         ",\n        \"LoadModule\": " + json_array_of("loadModule") +
         ",\n        \"Define\": " + json_array_of("define") +
         ",\n        \"VirtualHost\": " + json_array_of("virtualHost") +
         ",\n        \"Location\": " + json_array_of("location") + include + "\n      }\n    },\n";
  out +=
      "    \"virtualHost\": {\n      \"type\": \"object\", \"additionalProperties\": false,\n"
      "      \"required\": " +
      json_required(element("VirtualHost")) + ",\n      \"properties\": {";
  json_scope(registry, kVirtualHostContext, out);
  out += json_attributes(element("VirtualHost")) +
         ",\n        \"Location\": " + json_array_of("location") + include + "\n      }\n    },\n";
  out +=
      "    \"location\": {\n      \"type\": \"object\", \"additionalProperties\": false,\n"
      "      \"required\": " +
      json_required(element("Location")) + ",\n      \"properties\": {";
  json_scope(registry, kLocationContext, out);
  out += json_attributes(element("Location")) + include + "\n      }\n    }";
  for (const auto& [name, def] :
       {std::pair{"Listen", "listen"}, std::pair{"LoadModule", "loadModule"},
        std::pair{"Define", "define"}, std::pair{"Include", "include"}}) {
    std::string attributes = json_attributes(element(name));
    attributes.erase(0, 1);  // the leading comma
    out += ",\n    \"" + std::string(def) +
           "\": {\n      \"type\": \"object\", \"additionalProperties\": false,\n"
           "      \"description\": " +
           json_string(element(name).help) +
           ",\n      \"required\": " + json_required(element(name)) + ",\n      \"properties\": {" +
           attributes + "\n      }\n    }";
  }
  out += "\n  }\n}\n";
  return out;
}

}  // namespace collage
