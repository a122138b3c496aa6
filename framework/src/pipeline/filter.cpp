#include "collage/filter.h"

#include <charconv>

#include "collage/metadata.h"

namespace collage {
namespace {

// The weight of one list member ("gzip;q=0.5" → 0.5); 1 without a q parameter.
double weight_of(std::string_view parameters) {
  while (!parameters.empty()) {
    const std::size_t semicolon = parameters.find(';');
    const std::string_view parameter = trim_ows(parameters.substr(0, semicolon));
    if (parameter.size() > 2 && (parameter[0] == 'q' || parameter[0] == 'Q') &&
        parameter[1] == '=') {
      double q = 0;
      const std::string_view number = parameter.substr(2);
      const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), q);
      return ec == std::errc() && end == number.data() + number.size() ? q : 0;
    }
    parameters =
        semicolon == std::string_view::npos ? std::string_view() : parameters.substr(semicolon + 1);
  }
  return 1;
}

}  // namespace

double token_weight(std::string_view value, std::string_view token) {
  // An explicit entry for the token wins over "*" (RFC 9110 §12.5.3).
  double star = -1;
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    const std::string_view member = trim_ows(value.substr(0, comma));
    const std::size_t semicolon = member.find(';');
    const std::string_view name = trim_ows(member.substr(0, semicolon));
    const double q =
        semicolon == std::string_view::npos ? 1 : weight_of(member.substr(semicolon + 1));
    if (iequals(name, token)) {
      return q;
    }
    if (name == "*") {
      star = q;
    }
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return star > 0 ? star : 0;
}

bool header_allows_token(std::string_view value, std::string_view token) {
  return token_weight(value, token) > 0;
}

}  // namespace collage
