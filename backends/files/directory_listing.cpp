#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "collage/page.h"
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

// One unit style everywhere: bytes below 1 KiB, then one decimal and a binary unit.
std::string human_size(long long size) {
  if (size < 1024) {
    return fmt::format("{} B", size);
  }
  static constexpr std::string_view kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(size) / 1024;
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(kUnits)) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

// The order asked for in the query, as Apache's mod_autoindex reads it: C=N|M|S (name,
// modified, size) and O=A|D, separated by ';' or '&'. Anything else: by name, ascending.
struct SortOrder {
  char column = 'N';
  bool descending = false;
};

SortOrder parse_sort(std::string_view query) {
  SortOrder order;
  while (!query.empty()) {
    const std::size_t end = query.find_first_of(";&");
    const std::string_view part = query.substr(0, end);
    if (part.size() == 3 && part[0] == 'C' && part[1] == '=' &&
        (part[2] == 'N' || part[2] == 'M' || part[2] == 'S')) {
      order.column = part[2];
    } else if (part.size() == 3 && part[0] == 'O' && part[1] == '=' &&
               (part[2] == 'A' || part[2] == 'D')) {
      order.descending = part[2] == 'D';
    }
    query = end == std::string_view::npos ? std::string_view() : query.substr(end + 1);
  }
  return order;
}

// A column heading that sorts by it; a second click on the sorted column reverses it.
void append_sort_heading(std::string& html, std::string_view label, char column,
                         const SortOrder& order, std::string_view cell_class) {
  const bool sorted = order.column == column;
  const bool next_descending = sorted && !order.descending;
  html += fmt::format("<th{}><a href=\"?C={};O={}\">{}{}</a></th>", cell_class, column,
                      next_descending ? 'D' : 'A', label,
                      sorted ? (order.descending ? " \u25BE" : " \u25B4") : "");
}

}  // namespace

std::string render_directory_listing(int directory_fd, std::string_view path,
                                     std::string_view query) {
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
  const SortOrder order = parse_sort(query);
  // Folders first whatever the order, as file managers do; then the chosen column, then name.
  std::sort(entries.begin(), entries.end(), [&order](const Entry& a, const Entry& b) {
    if (a.directory != b.directory) {
      return a.directory;
    }
    int c = 0;
    if (order.column == 'M' && a.modified != b.modified) {
      c = a.modified < b.modified ? -1 : 1;
    } else if (order.column == 'S' && a.size != b.size && !a.directory) {
      c = a.size < b.size ? -1 : 1;
    } else {
      c = a.name.compare(b.name);
    }
    return order.descending ? c > 0 : c < 0;
  });

  std::string html;
  append_page_start(fmt::format("Index of {}", path), html);
  append_breadcrumbs(path, html);
  html += "<h1>Index of ";
  append_html_escaped(path, html);
  html += "</h1>\n<table>\n<thead><tr>";
  append_sort_heading(html, "Name", 'N', order, "");
  append_sort_heading(html, "Modified (UTC)", 'M', order, " class=\"wide\"");
  append_sort_heading(html, "Size", 'S', order, " class=\"n\"");
  html += "</tr></thead>\n<tbody>\n";
  if (path != "/") {
    html +=
        "<tr><td class=\"name\"><a href=\"../\" rel=\"up\">\u2191 Parent folder</a></td>"
        "<td class=\"wide\"></td><td class=\"n\"></td></tr>\n";
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
    html += fmt::format(
        "<tr><td class=\"name\"><a href=\"{}\">{}</a></td><td class=\"wide\">{}</td>"
        "<td class=\"n\">{}</td></tr>\n",
        escaped_href, label, when, e.directory ? "\u2014" : human_size(e.size));
  }
  if (entries.empty()) {
    html += "<tr><td class=\"muted\" colspan=\"3\">This folder is empty.</td></tr>\n";
  }
  html += "</tbody></table>\n";
  append_page_end(html);
  return html;
}

}  // namespace collage::files
