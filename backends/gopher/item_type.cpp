#include "item_type.h"

#include <algorithm>
#include <array>
#include <string>

#include "collage/metadata.h"

namespace collage::gopher {
namespace {

struct ExtensionType {
  std::string_view extension;
  char type;
  std::string_view media_type;
};

constexpr std::array<ExtensionType, 62> kTable = {{
    {"txt", '0', "text/plain"},
    {"text", '0', "text/plain"},
    {"md", '0', "text/plain"},
    {"markdown", '0', "text/plain"},
    {"csv", '0', "text/plain"},
    {"log", '0', "text/plain"},
    {"conf", '0', "text/plain"},
    {"cfg", '0', "text/plain"},
    {"ini", '0', "text/plain"},
    {"nfo", '0', "text/plain"},
    {"asc", '0', "text/plain"},
    {"c", '0', "text/plain"},
    {"h", '0', "text/plain"},
    {"cpp", '0', "text/plain"},
    {"py", '0', "text/plain"},
    {"sh", '0', "text/plain"},
    {"pl", '0', "text/plain"},
    {"rs", '0', "text/plain"},
    {"go", '0', "text/plain"},
    {"json", '0', "text/plain"},
    {"xml", '0', "text/plain"},
    {"yaml", '0', "text/plain"},
    {"gmi", '0', "text/plain"},
    {"rst", '0', "text/plain"},
    {"gif", 'g', "image/gif"},
    {"jpg", 'I', "image/jpeg"},
    {"jpeg", 'I', "image/jpeg"},
    {"png", 'I', "image/png"},
    {"bmp", 'I', "image/bmp"},
    {"webp", 'I', "image/webp"},
    {"svg", 'I', "image/svg+xml"},
    {"ico", 'I', "image/vnd.microsoft.icon"},
    {"tif", 'I', "image/tiff"},
    {"tiff", 'I', "image/tiff"},
    {"html", 'h', "text/html"},
    {"htm", 'h', "text/html"},
    {"xhtml", 'h', "application/xhtml+xml"},
    {"wav", 's', "audio/wav"},
    {"mp3", 's', "audio/mpeg"},
    {"ogg", 's', "audio/ogg"},
    {"flac", 's', "audio/flac"},
    {"au", 's', "audio/basic"},
    {"pdf", 'd', "application/pdf"},
    {"ps", 'd', "application/postscript"},
    {"doc", 'd', "application/msword"},
    {"odt", 'd', "application/vnd.oasis.opendocument.text"},
    {"rtf", 'd', "application/rtf"},
    {"epub", 'd', "application/epub+zip"},
    {"zip", '9', "application/zip"},
    {"gz", '9', "application/gzip"},
    {"tgz", '9', "application/gzip"},
    {"tar", '9', "application/x-tar"},
    {"bz2", '9', "application/x-bzip2"},
    {"xz", '9', "application/x-xz"},
    {"7z", '9', "application/x-7z-compressed"},
    {"iso", '9', "application/octet-stream"},
    {"bin", '9', "application/octet-stream"},
    {"exe", '9', "application/octet-stream"},
    {"mp4", ';', "video/mp4"},
    {"mkv", ';', "video/x-matroska"},
    {"webm", ';', "video/webm"},
    {"avi", ';', "video/x-msvideo"},
}};

const ExtensionType* find_extension(std::string_view file_name) {
  const std::size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos) {
    file_name.remove_prefix(slash + 1);
  }
  const std::size_t dot = file_name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) {
    return nullptr;
  }
  const std::string_view extension = file_name.substr(dot + 1);
  for (const ExtensionType& e : kTable) {
    if (iequals(e.extension, extension)) {
      return &e;
    }
  }
  return nullptr;
}

}  // namespace

char item_type_for_name(std::string_view file_name) {
  const ExtensionType* e = find_extension(file_name);
  return e != nullptr ? e->type : '?';
}

char item_type_for_content(std::string_view sample) {
  std::size_t printable = 0;
  for (unsigned char c : sample) {
    if (c == 0) {
      return '9';
    }
    if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t' || c >= 0x80) {
      ++printable;
    }
  }
  return (sample.empty() || printable * 100 >= sample.size() * 95) ? '0' : '9';
}

std::string_view media_type_for(char type, std::string_view file_name) {
  if (const ExtensionType* e = find_extension(file_name); e != nullptr && e->type == type) {
    return e->media_type;
  }
  switch (type) {
    case '0': return "text/plain";
    case 'h': return "text/html";
    case 'g': return "image/gif";
    default: return "application/octet-stream";
  }
}

}  // namespace collage::gopher
