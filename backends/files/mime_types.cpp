#include "mime_types.h"

#include <algorithm>
#include <fstream>
#include <sstream>

namespace collage::files {

bool MimeTypes::load_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  load_text(text.str());
  return true;
}

void MimeTypes::load_text(std::string_view text) {
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) {
      line.resize(hash);
    }
    std::istringstream words(line);
    std::string type;
    std::string extension;
    if (!(words >> type)) {
      continue;
    }
    while (words >> extension) {
      add(extension, type);
    }
  }
}

void MimeTypes::add(std::string_view extension, std::string_view type) {
  if (!extension.empty() && extension.front() == '.') {
    extension.remove_prefix(1);
  }
  // A type goes out in a Content-Type line: a control byte in a hand-edited table must not.
  if (extension.empty() || type.empty() || std::any_of(type.begin(), type.end(), [](char c) {
        return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f;
      })) {
    return;
  }
  std::string key(extension);
  std::transform(key.begin(), key.end(), key.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  by_extension_.insert_or_assign(std::move(key), std::string(type));
}

std::string_view MimeTypes::lookup(std::string_view file_name) const {
  const std::size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  const std::size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot + 1 >= file_name.size() ||
      dot + 1 + 16 < file_name.size()) {
    return default_type_;
  }
  char key[17];
  const std::size_t length = file_name.size() - dot - 1;
  for (std::size_t i = 0; i < length; ++i) {
    key[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(file_name[dot + 1 + i])));
  }
  auto it = by_extension_.find(std::string_view(key, length));
  return it == by_extension_.end() ? std::string_view(default_type_) : std::string_view(it->second);
}

}  // namespace collage::files
