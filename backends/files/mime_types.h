#pragma once
// Media types by file extension: /etc/mime.types (Debian's media-types) plus AddType overrides.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace collage::files {

class MimeTypes {
 public:
  // Reads a mime.types file ("type ext ext …" lines, '#' comments). False if it cannot be read.
  bool load_file(const std::string& path);
  // The same, from the file's text.
  void load_text(std::string_view text);
  // Adds or replaces one mapping; extension without the dot, any case.
  void add(std::string_view extension, std::string_view type);
  void set_default(std::string type) { default_type_ = std::move(type); }

  // The type for a file name (by its last extension), or the default type. The view stays valid
  // as long as this table.
  std::string_view lookup(std::string_view file_name) const;

 private:
  std::map<std::string, std::string, std::less<>> by_extension_;
  std::string default_type_ = "application/octet-stream";
};

}  // namespace collage::files
