// Fuzzes two readers of files an operator or a hole's author writes: gophermaps and the XML
// configuration (with every compiled-in module's directives). Invariants: every rendered menu
// line has the four tab-separated fields and no stray line break; the loader either returns a
// configuration or at least one error, never both missing.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collage/config.h"
#include "collage/registry.h"
#include "gophermap.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const collage::gopher::MenuContext context{"/dir/", "/gopher", "example.org", "70"};
  const std::string menu = collage::gopher::render_gophermap(
      input, context, [](const std::set<std::string>&, std::string& out) {
        out += "0listed\t/dir/listed\texample.org\t70\r\n";
      });
  std::size_t start = 0;
  while (start < menu.size()) {
    const std::size_t end = menu.find("\r\n", start);
    if (end == std::string::npos) {
      std::abort();  // every line ends in CRLF
    }
    const std::string_view line = std::string_view(menu).substr(start, end - start);
    if (line.find('\n') != std::string_view::npos || line.find('\r') != std::string_view::npos ||
        std::count(line.begin(), line.end(), '\t') != 3) {
      std::abort();
    }
    start = end + 2;
  }

  static collage::Registry* registry = [] {
    auto* made = new collage::Registry;
    collage::register_builtin_modules(*made);
    return made;
  }();
  collage::ConfigErrors errors;
  collage::LoadOptions options;
  options.use_environment = false;
  const auto config = collage::load_config_text(std::string(input), "fuzz.xml",
                                                registry->directives(), options, errors);
  if (config == nullptr && errors.empty()) {
    std::abort();  // refused without saying why
  }
  return 0;
}
