#include "config_json.h"

#include <tinyxml2.h>

#include <algorithm>
#include <cctype>
#include <cmath>

#include "collage/structure.h"

namespace collage {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;
using tinyxml2::XMLElement;

bool is_array_directive(std::string_view name, const DirectiveRegistry& directives) {
  const RegisteredDirective* reg = directives.find(name);
  return reg != nullptr &&
         (reg->directive->type == ArgType::list || reg->directive->type == ArgType::entries);
}

void add_to_array(Struct& scope, const std::string& key, Value value) {
  Value& slot = (*scope.mutable_fields())[key];
  *slot.mutable_list_value()->add_values() = std::move(value);
}

void element_to_json(const XMLElement* parent, const DirectiveRegistry& directives, Struct& out) {
  for (const XMLElement* e = parent->FirstChildElement(); e != nullptr;
       e = e->NextSiblingElement()) {
    const std::string name = e->Name();
    if (find_structural_element(name) != nullptr) {
      Value item;
      Struct& object = *item.mutable_struct_value();
      for (const tinyxml2::XMLAttribute* a = e->FirstAttribute(); a != nullptr; a = a->Next()) {
        (*object.mutable_fields())[a->Name()].set_string_value(a->Value());
      }
      element_to_json(e, directives, object);
      add_to_array(out, name, std::move(item));
      continue;
    }
    Value text;
    text.set_string_value(e->GetText() != nullptr ? e->GetText() : "");
    if (is_array_directive(name, directives)) {
      add_to_array(out, name, std::move(text));
    } else {
      (*out.mutable_fields())[name] = std::move(text);
    }
  }
}

bool scalar_text(const Value& value, std::string& text) {
  switch (value.kind_case()) {
    case Value::kStringValue: text = value.string_value(); return true;
    case Value::kBoolValue: text = value.bool_value() ? "on" : "off"; return true;
    case Value::kNumberValue: {
      const double number = value.number_value();
      if (number != std::floor(number) || std::fabs(number) > 9.0e15) {
        return false;
      }
      text = std::to_string(static_cast<long long>(number));
      return true;
    }
    default: return false;
  }
}

bool json_to_element(const Struct& scope, XMLElement* into, tinyxml2::XMLDocument& doc,
                     const std::string& where, std::string& error);

// An XML name (ASCII letters, digits, '_', '-', '.', not starting with a digit, '-' or '.'):
// every directive and element is one, and anything else would not read back
// (admin_config_fuzz found "KeepAliveTimeo#t").
bool element_name(std::string_view key) {
  if (key.empty() || !(std::isalpha(static_cast<unsigned char>(key[0])) || key[0] == '_')) {
    return false;
  }
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool structural_item(const std::string& name, const Value& item, XMLElement* into,
                     tinyxml2::XMLDocument& doc, const std::string& where, std::string& error) {
  if (item.kind_case() != Value::kStructValue) {
    error = where + "." + name + ": each item must be an object";
    return false;
  }
  const ElementSpec& spec = *find_structural_element(name);
  XMLElement* element = doc.NewElement(name.c_str());
  into->InsertEndChild(element);
  Struct children;
  for (const auto& [key, value] : item.struct_value().fields()) {
    bool attribute = false;
    for (const AttributeSpec& a : spec.attributes) {
      attribute = attribute || a.name == key;
    }
    std::string text;
    if (attribute && !scalar_text(value, text)) {
      error = where + "." + name + "." + key + ": an attribute takes a string, number or boolean";
      return false;
    }
    if (attribute) {
      element->SetAttribute(key.c_str(), text.c_str());
    } else {
      (*children.mutable_fields())[key] = value;
    }
  }
  return json_to_element(children, element, doc, where + "." + name, error);
}

bool json_to_element(const Struct& scope, XMLElement* into, tinyxml2::XMLDocument& doc,
                     const std::string& where, std::string& error) {
  // Sorted keys: a protobuf map has no order, and the same JSON must give the same XML.
  std::vector<std::string> keys;
  for (const auto& [key, value] : scope.fields()) {
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  for (const std::string& key : keys) {
    const Value& value = scope.fields().at(key);
    if (!element_name(key)) {
      error = where + ": '" + key + "' is not a name a configuration element can have";
      return false;
    }
    const bool structural = find_structural_element(key) != nullptr;
    if (value.kind_case() == Value::kListValue) {
      for (const Value& item : value.list_value().values()) {
        std::string text;
        if (structural) {
          if (!structural_item(key, item, into, doc, where, error)) {
            return false;
          }
        } else if (scalar_text(item, text)) {
          into->InsertNewChildElement(key.c_str())->SetText(text.c_str());
        } else {
          error = where + "." + key + ": items must be strings, numbers or booleans";
          return false;
        }
      }
      continue;
    }
    std::string text;
    if (structural) {
      error = where + "." + key + ": must be an array of objects";
      return false;
    }
    if (!scalar_text(value, text)) {
      error = where + "." + key + ": must be a string, a number, a boolean or an array of them";
      return false;
    }
    into->InsertNewChildElement(key.c_str())->SetText(text.c_str());
  }
  return true;
}

}  // namespace

bool config_xml_to_json(const std::string& xml, const DirectiveRegistry& directives, Struct& json,
                        std::string& error) {
  tinyxml2::XMLDocument doc;
  if (doc.Parse(xml.data(), xml.size()) != tinyxml2::XML_SUCCESS || doc.RootElement() == nullptr) {
    error = std::string("XML is not well-formed: ") + doc.ErrorStr();
    return false;
  }
  json.Clear();
  element_to_json(doc.RootElement(), directives, json);
  return true;
}

bool config_json_to_xml(const Struct& json, std::string& xml, std::string& error) {
  tinyxml2::XMLDocument doc;
  XMLElement* root = doc.NewElement("Collage");
  doc.InsertEndChild(root);
  if (!json_to_element(json, root, doc, "$", error)) {
    return false;
  }
  tinyxml2::XMLPrinter printer;
  doc.Print(&printer);
  xml.assign(printer.CStr(), static_cast<std::size_t>(printer.CStrSize() - 1));
  return true;
}

}  // namespace collage
