#pragma once
// Schemas of the configuration, generated from the directive registry and the structural
// elements (collage --schema xsd|json), so tools can check a file before the server sees it.

#include <string>

#include "collage/registry.h"

namespace collage {

// XML Schema 1.0 for the XML configuration (xmllint --schema).
std::string xml_schema(const Registry& registry);
// JSON Schema (2020-12) for the configuration's JSON form, element for element.
std::string json_schema(const Registry& registry);

}  // namespace collage
