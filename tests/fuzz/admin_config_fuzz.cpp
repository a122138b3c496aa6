// Fuzzes what the admin API takes from a caller before the loader sees it: a subtree change
// (an operation, a path and an XML element, applied to a fixed source) and a configuration in
// its JSON form. Invariants: a change that succeeds leaves well-formed XML, a GET returns
// well-formed XML; JSON that converts gives well-formed XML rooted at <Collage>, which converts
// back to JSON.

#include <google/protobuf/util/json_util.h>
#include <tinyxml2.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collage/registry.h"
#include "config_json.h"
#include "config_tree.h"

namespace {

constexpr std::string_view kSource = R"(<?xml version="1.0"?>
<Collage>
  <!-- kept -->
  <Define name="ROOT" value="/srv"/>
  <Mpm>event</Mpm>
  <Listen protocol="http1" address="127.0.0.1" port="8080"/>
  <Listen protocol="http1" address="unix:/run/admin.sock" admin="on"/>
  <DocumentRoot>${ROOT}</DocumentRoot>
  <VirtualHost name="a.example">
    <Location path="/docs"><DirectoryIndex>index.html</DirectoryIndex></Location>
    <Location path="/x/y"><Header>set X-A 1</Header></Location>
  </VirtualHost>
</Collage>
)";

bool well_formed(const std::string& xml) {
  tinyxml2::XMLDocument doc;
  return doc.Parse(xml.data(), xml.size()) == tinyxml2::XML_SUCCESS;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.empty()) {
    return 0;
  }
  // Byte 0 picks the operation; then the path up to a newline; the rest is the element.
  collage::TreeEdit edit;
  edit.operation = static_cast<collage::TreeOperation>(static_cast<unsigned char>(input[0]) % 4);
  const std::string_view rest = input.substr(1);
  const std::size_t newline = rest.find('\n');
  edit.path = std::string(rest.substr(0, newline));
  edit.xml = newline == std::string_view::npos ? std::string() : std::string(rest.substr(newline + 1));
  std::string out;
  std::string error;
  if (collage::edit_config_tree(std::string(kSource), edit, out, error)) {
    if (!well_formed(out)) {
      std::abort();
    }
  } else if (error.empty()) {
    std::abort();  // refused without saying why
  }

  static collage::Registry* registry = [] {
    auto* made = new collage::Registry;
    collage::register_builtin_modules(*made);
    return made;
  }();
  google::protobuf::Struct json;
  if (!google::protobuf::util::JsonStringToMessage(std::string(input), &json).ok()) {
    return 0;
  }
  std::string xml;
  if (!collage::config_json_to_xml(json, xml, error)) {
    return 0;
  }
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS || doc.RootElement() == nullptr ||
      std::string_view(doc.RootElement()->Name()) != "Collage") {
    std::abort();
  }
  google::protobuf::Struct again;
  if (!collage::config_xml_to_json(xml, registry->directives(), again, error)) {
    std::abort();
  }
  return 0;
}
