#include "config_tree.h"

#include <tinyxml2.h>

#include <charconv>
#include <string_view>
#include <vector>

namespace collage {
namespace {

using tinyxml2::XMLElement;

// Segments split on '/' outside brackets (a Location's key is a path with slashes of its own).
std::vector<std::string> split_path(std::string_view path) {
  std::vector<std::string> segments;
  std::string current;
  int depth = 0;
  for (const char c : path) {
    depth += c == '[' ? 1 : c == ']' ? -1 : 0;
    if (c == '/' && depth == 0) {
      if (!current.empty()) {
        segments.push_back(std::move(current));
      }
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) {
    segments.push_back(std::move(current));
  }
  return segments;
}

// What names an element among siblings of its kind.
std::string key_of(const XMLElement* e) {
  const std::string_view name = e->Name();
  const char* attribute = name == "VirtualHost" || name == "LoadModule" || name == "Define" ? "name"
                          : name == "Location" || name == "Include"                         ? "path"
                                                                    : nullptr;
  if (name == "Listen") {
    const char* address = e->Attribute("address");
    const char* port = e->Attribute("port");
    return std::string(address ? address : "0.0.0.0") + (port ? std::string(":") + port : "");
  }
  const char* value = attribute != nullptr ? e->Attribute(attribute) : nullptr;
  return value != nullptr ? value : "";
}

XMLElement* find_child(XMLElement* parent, const std::string& segment, std::string& error) {
  const std::size_t open = segment.find('[');
  const std::string name = segment.substr(0, open);
  std::string key;
  if (open != std::string::npos) {
    if (segment.back() != ']') {
      error = "'" + segment + "': a [key] must end the segment";
      return nullptr;
    }
    key = segment.substr(open + 1, segment.size() - open - 2);
  }
  std::size_t index = 0;
  const bool numbered =
      !key.empty() &&
      std::from_chars(key.data(), key.data() + key.size(), index).ec == std::errc{} &&
      std::to_string(index) == key;
  XMLElement* found = nullptr;
  std::size_t seen = 0;
  for (XMLElement* e = parent->FirstChildElement(name.c_str()); e != nullptr;
       e = e->NextSiblingElement(name.c_str())) {
    ++seen;
    const bool match = key.empty() || (numbered ? seen == index : key_of(e) == key);
    if (!match) {
      continue;
    }
    if (found != nullptr && key.empty()) {
      error = "'" + segment + "' is ambiguous: there are several; add [key] or [n]";
      return nullptr;
    }
    found = found != nullptr ? found : e;
  }
  if (found == nullptr) {
    error = "'" + segment + "' is not in the configuration";
  }
  return found;
}

// tinyxml2 indents by four spaces; configuration files here use two, so a change diffs small.
std::string printed(const tinyxml2::XMLNode& node) {
  tinyxml2::XMLPrinter printer;
  node.Accept(&printer);
  const std::string_view text(printer.CStr(), static_cast<std::size_t>(printer.CStrSize() - 1));
  std::string out;
  bool line_start = true;
  std::size_t spaces = 0;
  for (const char c : text) {
    if (line_start && c == ' ') {
      ++spaces;
      continue;
    }
    if (line_start) {
      out.append(spaces / 2, ' ');
      spaces = 0;
    }
    line_start = c == '\n';
    out += c;
  }
  return out;
}

}  // namespace

bool edit_config_tree(const std::string& source, const TreeEdit& edit, std::string& out,
                      std::string& error) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(source.data(), source.size()) != tinyxml2::XML_SUCCESS ||
      doc.RootElement() == nullptr) {
    error = std::string("the running configuration's source does not parse: ") + doc.ErrorStr();
    return false;
  }
  XMLElement* target = doc.RootElement();
  for (const std::string& segment : split_path(edit.path)) {
    target = find_child(target, segment, error);
    if (target == nullptr) {
      return false;
    }
  }
  if (edit.operation == TreeOperation::get) {
    out = printed(*target);
    return true;
  }
  if (edit.operation == TreeOperation::remove) {
    if (target == doc.RootElement()) {
      error = "the root <Collage> cannot be removed; replace it, or apply a whole configuration";
      return false;
    }
    target->Parent()->DeleteChild(target);
  } else {
    tinyxml2::XMLDocument fragment;
    if (fragment.Parse(edit.xml.data(), edit.xml.size()) != tinyxml2::XML_SUCCESS ||
        fragment.RootElement() == nullptr ||
        fragment.RootElement()->NextSiblingElement() != nullptr) {
      error = "the new content must be one well-formed element";
      return false;
    }
    XMLElement* copy = fragment.RootElement()->DeepClone(&doc)->ToElement();
    if (edit.operation == TreeOperation::add) {
      target->InsertEndChild(copy);
    } else if (target == doc.RootElement()) {
      doc.DeleteChild(target);
      doc.InsertEndChild(copy);
    } else {
      target->Parent()->InsertAfterChild(target, copy);
      target->Parent()->DeleteChild(target);
    }
  }
  out = printed(doc);
  return true;
}

}  // namespace collage
