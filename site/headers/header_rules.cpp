#include "header_rules.h"

#include <algorithm>
#include <array>

namespace collage::headers {
namespace {

// Fields the front end writes from the message's framing and the connection; a rule may not
// touch them (it would contradict what is sent).
constexpr std::array<std::string_view, 9> kFramingFields{"Content-Length",
                                                         "Transfer-Encoding",
                                                         "Connection",
                                                         "Keep-Alive",
                                                         "Upgrade",
                                                         "Trailer",
                                                         "TE",
                                                         "Date",
                                                         "Host"};

std::string_view next_word(std::string_view& rest) {
  rest = trim_ows(rest);
  const std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
  const std::string_view word = rest.substr(0, end);
  rest.remove_prefix(end);
  return word;
}

bool valid_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

}  // namespace

bool parse_header_rule(std::string_view entry, bool response, HeaderRule& rule,
                       std::string& error) {
  std::string_view rest = entry;
  std::string_view word = next_word(rest);
  if (response && word == "always") {
    rule.always = true;
    word = next_word(rest);
  }
  using Action = HeaderRule::Action;
  if (word == "set") {
    rule.action = Action::set;
  } else if (word == "add") {
    rule.action = Action::add;
  } else if (word == "append") {
    rule.action = Action::append;
  } else if (word == "unset") {
    rule.action = Action::unset;
  } else if (word == "setifempty") {
    rule.action = Action::setifempty;
  } else {
    error = std::string("takes ") + (response ? "[always] " : "") +
            "set|add|append|unset|setifempty NAME [VALUE], got '" + std::string(entry) + "'";
    return false;
  }
  const std::string_view name = next_word(rest);
  if (!valid_name(name)) {
    error = "needs a field name, got '" + std::string(name) + "'";
    return false;
  }
  rule.name = name;
  if (std::any_of(kFramingFields.begin(), kFramingFields.end(),
                  [&](std::string_view f) { return iequals(f, name); })) {
    error = "cannot change " + rule.name + ": the front end writes it from the message itself";
    return false;
  }
  std::string_view value = trim_ows(rest);
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    value = value.substr(1, value.size() - 2);
  }
  if (rule.action == Action::unset) {
    if (!value.empty()) {
      error = "unset takes no value, got '" + std::string(value) + "'";
      return false;
    }
  } else if (value.empty()) {
    error = "needs a value for " + rule.name;
    return false;
  }
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    error = "a value may not hold a line break";
    return false;
  }
  if (response && iequals(name, "Last-Modified") && rule.action != Action::unset) {
    error = "Last-Modified can only be unset (the store knows the time)";
    return false;
  }
  rule.value = value;
  return true;
}

void apply_response_rule(const HeaderRule& rule, Entity& out) {
  using Action = HeaderRule::Action;
  // The fields the entity keeps apart from its headers.
  if (iequals(rule.name, "Content-Type")) {
    if (rule.action == Action::unset) {
      out.content_type = {};
    } else if (rule.action != Action::setifempty || out.content_type.empty()) {
      out.content_type = rule.value;  // the rule outlives the response
      out.content_type_keeper.reset();
    }
    return;
  }
  if (iequals(rule.name, "ETag")) {
    if (rule.action == Action::unset) {
      out.etag.clear();
    } else if (rule.action != Action::setifempty || out.etag.empty()) {
      out.etag = rule.value;
    }
    return;
  }
  if (iequals(rule.name, "Last-Modified")) {
    out.last_modified.reset();
    return;
  }
  switch (rule.action) {
    case Action::set: out.headers.set(rule.name, rule.value); break;
    case Action::add: out.headers.add(rule.name, rule.value); break;
    case Action::unset: out.headers.remove(rule.name); break;
    case Action::setifempty:
      if (!out.headers.contains(rule.name)) {
        out.headers.add(rule.name, rule.value);
      }
      break;
    case Action::append: {
      const std::string_view current = out.headers.get(rule.name);
      if (current.empty()) {
        out.headers.set(rule.name, rule.value);
      } else {
        out.headers.set(rule.name, std::string(current) + ", " + rule.value);
      }
      break;
    }
  }
}

void apply_request_rule(const HeaderRule& rule, MetadataView& headers) {
  using Action = HeaderRule::Action;
  switch (rule.action) {
    case Action::set: headers.set(rule.name, rule.value); break;
    case Action::add: headers.add(rule.name, rule.value); break;
    case Action::unset: headers.remove(rule.name); break;
    case Action::setifempty:
      if (!headers.contains(rule.name)) {
        headers.add(rule.name, rule.value);
      }
      break;
    case Action::append:
      // A view cannot hold the joined text: a second field of the same name says the same
      // (RFC 9110 §5.3).
      headers.add(rule.name, rule.value);
      break;
  }
}

}  // namespace collage::headers
