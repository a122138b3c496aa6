#pragma once
// The structural elements of a configuration file (<Listen>, <VirtualHost>, <Location>,
// <LoadModule>, <Define>) declared like directives: their attributes with types, whether they are
// required, their defaults and one line of help. The loader checks attributes against these
// rows, and the reference (collage -L) lists them.

#include <span>
#include <string>
#include <string_view>

#include "collage/config.h"
#include "collage/directive.h"

namespace collage {

struct AttributeSpec {
  std::string_view name;
  ArgType type = ArgType::string;
  bool required = false;
  std::string_view default_value;  // empty: none
  std::string_view help;
  std::int64_t min = 0;
  std::int64_t max = std::numeric_limits<std::int64_t>::max();
};

struct ElementSpec {
  std::string_view name;
  unsigned contexts = kServerContext;  // where the element may appear
  std::string_view help;
  std::span<const AttributeSpec> attributes;
  bool has_children = false;  // holds directives (and <Location>s in a <VirtualHost>)
};

std::span<const ElementSpec> structural_elements();
// The element named name, or null.
const ElementSpec* find_structural_element(std::string_view name);

// The configuration as the server reads it, as XML that loads back to the same configuration:
// defines expanded, every value as it was written (units kept), <Define>s the file used listed
// as comments, elements in a fixed order. What `collage -T` prints. With defaults, every
// server-level directive that has a default and is not set is written with it too.
std::string write_effective_config(const ServerConfig& config, const DirectiveRegistry& registry,
                                   bool defaults = false);

}  // namespace collage
