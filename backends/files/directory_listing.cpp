#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "collage/path.h"
#include "files_store.h"

namespace collage::files {
namespace {

struct Entry {
  std::string name;
  bool directory = false;
  long long size = 0;
  std::time_t modified = 0;
};

std::string human_size(long long size) {
  if (size < 1024) {
    return fmt::format("{}", size);
  }
  const char* units = "KMGT";
  double value = static_cast<double>(size);
  int unit = -1;
  while (value >= 1024 && unit < 3) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f}{}", value, units[unit]);
}

}  // namespace

std::string render_directory_listing(int directory_fd, std::string_view path) {
  std::vector<Entry> entries;
  if (DIR* dir = ::fdopendir(directory_fd)) {
    while (const dirent* d = ::readdir(dir)) {
      // Hidden files (and our own upload temporaries) are not listed.
      if (d->d_name[0] == '.') {
        continue;
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir), d->d_name, &st, 0) != 0) {
        continue;
      }
      entries.push_back(
          Entry{d->d_name, S_ISDIR(st.st_mode), static_cast<long long>(st.st_size), st.st_mtime});
    }
    ::closedir(dir);
  } else {
    ::close(directory_fd);
  }
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.directory != b.directory ? a.directory : a.name < b.name;
  });

  std::string html;
  std::string escaped_path;
  append_html_escaped(path, escaped_path);
  html += "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Index of ";
  html += escaped_path;
  html += "</title></head>\n<body>\n<h1>Index of ";
  html += escaped_path;
  html += "</h1>\n<table>\n<tr><th>Name</th><th>Last modified</th><th>Size</th></tr>\n";
  if (path != "/") {
    html += "<tr><td><a href=\"../\">../</a></td><td></td><td>-</td></tr>\n";
  }
  for (const Entry& e : entries) {
    // "./" keeps a name such as "a:b" from being read as a URL scheme.
    std::string href = "./";
    append_url_encoded_path(e.name, href);
    std::string label;
    append_html_escaped(e.name, label);
    if (e.directory) {
      href += '/';
      label += '/';
    }
    std::string escaped_href;
    append_html_escaped(href, escaped_href);
    char when[32];
    std::tm tm{};
    ::gmtime_r(&e.modified, &tm);
    std::strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    html += fmt::format("<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td></tr>\n",
                        escaped_href, label, when, e.directory ? "-" : human_size(e.size));
  }
  html += "</table>\n</body></html>\n";
  return html;
}

}  // namespace collage::files
