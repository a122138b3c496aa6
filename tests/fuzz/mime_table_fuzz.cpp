// The MIME table reader (/etc/mime.types and its like, which an operator may point anywhere).
// Invariants: every extension the text maps to a clean type is found again, in any case; no
// lookup gives a type with a space or control byte (it would break a Content-Type line); a name
// without a known extension gets the default type.

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>
#include <string_view>

#include "mime_types.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  collage::files::MimeTypes table;
  // Not a type the table could map (it refuses spaces), so a mapped extension never yields it.
  table.set_default("no such type");
  table.load_text(text);
  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    line.resize(std::min(line.find('#'), line.size()));
    std::istringstream words(line);
    std::string type;
    std::string extension;
    if (!(words >> type)) {
      continue;
    }
    while (words >> extension) {
      const std::string bare = extension.front() == '.' ? extension.substr(1) : extension;
      const bool clean_type = std::none_of(type.begin(), type.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      });
      if (bare.empty() || bare.size() > 16 || bare.find_first_of("./") != std::string::npos ||
          !clean_type) {
        continue;  // never a name's last extension, or a type the table refuses
      }
      std::string upper = "file." + bare;
      for (char& c : upper) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      const std::string_view found = table.lookup(upper);
      if (found.empty() || found == "no such type") {
        std::abort();  // mapped, so found (by this line or a later one naming it again)
      }
      for (const char c : found) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
          std::abort();
        }
      }
    }
  }
  if (table.lookup("no-extension-here") != "no such type") {
    std::abort();
  }
  return 0;
}
