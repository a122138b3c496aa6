// The Gopher front end's handling of what a client sends: the selector line split at its tab,
// text items framed per RFC 1436 from arbitrary pieces, and the error item that echoes the
// selector. Invariants: the selector holds no tab and is a prefix of the line; framed text has
// only CRLF line ends (a lone CR is text), no lone "." line before the end mark, and ends with
// ".\r\n"; an error menu is one item line of four tab-separated fields plus the end mark.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "gopher_connection.h"

namespace {

void check(bool ok) {
  if (!ok) {
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::gopher_protocol;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string_view line = input.substr(0, input.find_first_of("\r\n"));

  std::string_view selector;
  std::string_view search;
  split_selector_line(line, selector, search);
  check(selector.find('\t') == std::string_view::npos);
  check(line.substr(0, selector.size()) == selector);

  // Text framing, fed in pieces cut where the input's bytes say.
  std::string framed;
  bool at_line_start = true;
  std::size_t at = 0;
  while (at < input.size()) {
    const std::size_t piece = 1 + static_cast<unsigned char>(input[at]) % 17;
    append_text_item(input.substr(at, piece), at_line_start, framed);
    at += piece;
  }
  finish_text_item(at_line_start, framed);
  check(framed.size() >= 3 && framed.ends_with(".\r\n"));
  std::size_t start = 0;
  while (start < framed.size()) {
    const std::size_t end = framed.find('\n', start);
    check(end != std::string::npos && end > start && framed[end - 1] == '\r');
    // A lone CR inside a line is the text's own byte; what ends a line is CRLF.
    const std::string_view text_line(framed.data() + start, end - 1 - start);
    check(text_line != "." || end + 1 == framed.size());  // only the end mark is a lone dot
    start = end + 1;
  }

  const std::string menu = error_menu(404, selector);
  check(menu.ends_with("\r\n.\r\n"));
  const std::string_view item(menu.data(), menu.size() - 5);
  check(item.find_first_of("\r\n") == std::string_view::npos);
  std::size_t tabs = 0;
  for (const char c : item) {
    tabs += c == '\t';
  }
  check(tabs == 3);
  return 0;
}
