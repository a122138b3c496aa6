#pragma once
// The configuration's JSON form (collage --schema json describes it), to and from XML: each scope
// an object whose keys are directives (lists and entries as arrays) and structural elements
// (arrays of objects holding their attributes and, for VirtualHost and Location, their scope).

#include <google/protobuf/struct.pb.h>

#include <string>

#include "collage/registry.h"

namespace collage {

// The JSON form of an XML configuration; false with error when the XML does not parse.
bool config_xml_to_json(const std::string& xml, const DirectiveRegistry& directives,
                        google::protobuf::Struct& json, std::string& error);
// The XML a JSON-form configuration stands for; false with error when its shape is wrong (the
// loader judges the rest, as for any file).
bool config_json_to_xml(const google::protobuf::Struct& json, std::string& xml, std::string& error);

}  // namespace collage
