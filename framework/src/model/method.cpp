#include "collage/method.h"

#include <array>
#include <string>

namespace collage {
namespace {

constexpr std::array<std::string_view, kMethodCount> kNames = {
    "GET",     "HEAD",  "POST", "PUT",   "DELETE", "OPTIONS", "TRACE",
    "CONNECT", "PATCH", "LIST", "MKDIR", "RENAME", "",
};

// Methods that go on the wire in HTTP and so may appear in Allow.
constexpr std::array<Method, 9> kHttpMethods = {
    Method::get,   Method::head,    Method::post,  Method::put,     Method::del,
    Method::patch, Method::options, Method::trace, Method::connect,
};

}  // namespace

Method method_from_token(std::string_view token) {
  // Method names are case-sensitive (RFC 9110 §9.1); only the HTTP ones are recognised on input.
  for (Method m : kHttpMethods) {
    if (kNames[static_cast<int>(m)] == token) {
      return m;
    }
  }
  return Method::unknown;
}

std::string_view method_name(Method method) {
  return kNames[static_cast<int>(method)];
}

void append_allow_header_value(MethodSet methods, std::string& out) {
  bool first = true;
  for (Method m : kHttpMethods) {
    if (methods.contains(m)) {
      if (!first) {
        out += ", ";
      }
      out += method_name(m);
      first = false;
    }
  }
}

}  // namespace collage
