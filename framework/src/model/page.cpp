#include "collage/page.h"

#include "collage/path.h"

namespace collage {
namespace {

// System fonts only; colours as variables so the dark scheme swaps them in one place.
constexpr std::string_view kStyle =
    ":root{color-scheme:light dark;--fg:#1d2125;--bg:#f6f7f9;--card:#fff;--muted:#5f6670;"
    "--line:#e2e5e9;--link:#0b57d0}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e4e6e8;--bg:#15171a;--card:#1d2024;"
    "--muted:#9aa1a9;--line:#2d3238;--link:#8ab4f8}}"
    "*{box-sizing:border-box}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif}"
    "main{max-width:64rem;margin:0 auto;padding:1.25rem 1rem 2rem}"
    "h1{font-size:1.45rem;line-height:1.3;margin:.25rem 0 1rem;overflow-wrap:anywhere}"
    "h2{font-size:1.1rem;margin:1.5rem 0 .5rem}"
    "a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}"
    "nav{color:var(--muted);font-size:.95rem;overflow-wrap:anywhere}"
    "nav a{padding:0 .1rem}"
    ".card{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "padding:1rem 1.25rem}"
    "table{width:100%;border-collapse:collapse;background:var(--card);"
    "border:1px solid var(--line);border-radius:10px;overflow:hidden}"
    "th,td{padding:.55rem .8rem;text-align:left;border-bottom:1px solid var(--line)}"
    "th{font-size:.8rem;font-weight:600;color:var(--muted);text-transform:uppercase;"
    "letter-spacing:.04em}th a{color:inherit}"
    "tr:last-child td{border-bottom:0}"
    "td.name{overflow-wrap:anywhere}td.n,th.n{text-align:right;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}"
    ".muted{color:var(--muted)}"
    "pre{margin:0;white-space:pre-wrap;overflow-wrap:anywhere;"
    "font:15px/1.55 ui-monospace,'DejaVu Sans Mono',Menlo,monospace}"
    "footer{margin-top:1.5rem;color:var(--muted);font-size:.85rem}"
    "@media (max-width:640px){main{padding:1rem .75rem}.wide{display:none}"
    "th,td{padding:.5rem .55rem}}";

}  // namespace

void append_page_start(std::string_view title, std::string& out) {
  out +=
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>";
  append_html_escaped(title, out);
  out += "</title>\n<style>";
  out += kStyle;
  out += "</style>\n</head><body><main>\n";
}

void append_page_end(std::string& out) {
  out += "<footer>Collage</footer>\n</main></body></html>\n";
}

void append_breadcrumbs(std::string_view path, std::string& out) {
  out += "<nav aria-label=\"breadcrumb\"><a href=\"/\">/</a>";
  std::size_t start = 1;
  while (start < path.size()) {
    std::size_t end = path.find('/', start);
    const bool last = end == std::string_view::npos || end + 1 == path.size();
    if (end == std::string_view::npos) {
      end = path.size();
    }
    const std::string_view name = path.substr(start, end - start);
    out += ' ';
    if (last) {
      out += "<span>";
      append_html_escaped(name, out);
      out += "</span>";
    } else {
      std::string href;
      append_url_encoded_path(path.substr(0, end + 1), href);
      out += "<a href=\"";
      append_html_escaped(href, out);
      out += "\">";
      append_html_escaped(name, out);
      out += "</a> /";
    }
    start = end + 1;
  }
  out += "</nav>\n";
}

}  // namespace collage
