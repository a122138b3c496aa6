#pragma once
// Changes to one subtree of a configuration's source by path, as Caddy's admin API allows:
// "VirtualHost[www.example.com]/Location[/docs]/DirectoryIndex". The source keeps its ${…},
// Defines, Includes and comments; a subtree inside an included file is out of reach (the path
// stops at the <Include>).

#include <string>

namespace collage {

enum class TreeOperation { get, replace, add, remove };

struct TreeEdit {
  TreeOperation operation = TreeOperation::get;
  std::string path;
  std::string xml;  // replace, add: one element
};

// Applies edit to source. get: out is the element's XML; otherwise out is the whole new source.
// False with error (naming the path segment that failed) when nothing could be done.
bool edit_config_tree(const std::string& source, const TreeEdit& edit, std::string& out,
                      std::string& error);

}  // namespace collage
