#pragma once
// The SSI filter's settings and, for tests, one request's instance of it.

#include <memory>
#include <string>

#include "collage/filter.h"

namespace collage::ssi {

struct SsiSettings {
  bool legacy_expressions = false;
  bool exec = false;
  std::string error_message = "[an error occurred while processing this directive]";
  std::string time_format = "%A, %d-%b-%Y %H:%M:%S %Z";
};

// The instance the filter makes for a request (settings must outlive it).
std::unique_ptr<FilterInstance> make_ssi_instance(RequestContext& ctx, const SsiSettings& settings);

}  // namespace collage::ssi
