#include "collage/status.h"

#include <map>
#include <string>

#include "collage/page.h"
#include "collage/path.h"

namespace collage {

std::string_view reason_phrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 421: return "Misdirected Request";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    case 507: return "Insufficient Storage";
    default: return "Unknown";
  }
}

namespace {

// What each error means to the person reading it, and what they can do about it.
struct ErrorText {
  int status;
  std::string_view happened;
  std::string_view to_do;
};

constexpr ErrorText kErrorTexts[] = {
    {400, "The server could not understand the request: it was malformed.",
     "If you typed the address, check it; otherwise the program that sent the request has a "
     "problem to report to its authors."},
    {401, "This page needs you to sign in.", "Sign in with a user name and password."},
    {403, "You are not allowed to see this, or to do what was asked here.",
     "If you think you should be, ask the site's administrator."},
    {404, "There is nothing at this address.",
     "Check the address for typing mistakes, or start again from the home page."},
    {405, "This address does not accept that kind of request.",
     "Use a method the Allow header lists (most pages are only read, with GET)."},
    {408, "The request took too long to arrive.", "Try again; a slow network may be the cause."},
    {409,
     "The request conflicts with what is there now (it exists already, is not empty, or "
     "its folder is missing).",
     "Look at the current state and try again."},
    {411, "The request sent a body without saying how long it is.",
     "Send a Content-Length header (or a chunked body)."},
    {412, "A condition of the request (If-Match, If-Unmodified-Since) does not hold.",
     "The page changed in the meantime: fetch it again before changing it."},
    {413, "What was sent is larger than this place accepts.",
     "Send less, or ask the administrator to raise the limit."},
    {414, "The address is too long for this server.", "Use a shorter address."},
    {416, "The part of the file that was asked for lies beyond its end.",
     "Ask for the whole file, or a range inside it."},
    {417, "The server cannot meet the request's Expect header.", "Send the request without it."},
    {431, "The request's header fields are too large.",
     "Clear this site's cookies, or send fewer or shorter header fields."},
    {500, "Something went wrong in the server.",
     "Try again later; if it keeps happening, tell the site's administrator."},
    {501, "The server does not support what the request asks for.", "Use a standard HTTP method."},
    {502, "The server in front could not get a valid answer from the one behind it.",
     "Try again in a moment."},
    {503, "The service is not available right now.", "Try again in a moment."},
    {504, "The server behind this one did not answer in time.", "Try again in a moment."},
    {505, "This HTTP version is not supported.", "Use HTTP/1.1 or HTTP/2."},
    {507, "There is not enough storage left to complete this.",
     "Free some space, or ask the administrator."},
};

constexpr std::string_view kIdMark = "<!--id-->";

std::string render_error_page(int status, std::string_view happened, std::string_view to_do) {
  const std::string title = status == 0
                                ? std::string("Error")
                                : std::to_string(status) + " " + std::string(reason_phrase(status));
  std::string out;
  append_page_start(title, out);
  out += "<h1>";
  append_html_escaped(title, out);
  out += "</h1>\n<div class=\"card\"><p>";
  append_html_escaped(happened, out);
  out += "</p><p class=\"muted\">";
  append_html_escaped(to_do, out);
  out += "</p>";
  // The request's ID, when a front end adds it, goes here (kIdMark is cut out, see below).
  out += kIdMark;
  out += "<p><a href=\"/\">Home page</a></p></div>\n";
  append_page_end(out);
  return out;
}

// Each page once, with where the ID line goes.
struct RenderedPage {
  std::string text;
  std::size_t id_at = 0;
};

RenderedPage render_once(int status, std::string_view happened, std::string_view to_do) {
  RenderedPage page{render_error_page(status, happened, to_do), 0};
  page.id_at = page.text.find(kIdMark);
  page.text.erase(page.id_at, kIdMark.size());
  return page;
}

const RenderedPage& rendered_page(int status) {
  // Rendered on first use and then shared: an error response costs no formatting.
  static const auto* pages = [] {
    auto* made = new std::map<int, RenderedPage>;
    for (const ErrorText& text : kErrorTexts) {
      made->emplace(text.status, render_once(text.status, text.happened, text.to_do));
    }
    made->emplace(0, render_once(0, "The request could not be answered.", "Try again later."));
    return made;
  }();
  const auto it = pages->find(status);
  return it != pages->end() ? it->second : pages->at(0);
}

}  // namespace

std::string redirect_page(int status, std::string_view location) {
  const std::string title = std::to_string(status) + " " + std::string(reason_phrase(status));
  std::string out;
  append_page_start(title, out);
  out += "<h1>";
  append_html_escaped(title, out);
  out += "</h1>\n<div class=\"card\"><p>What you asked for is at <a href=\"";
  append_html_escaped(location, out);
  out += "\">";
  append_html_escaped(location, out);
  out += "</a>.</p></div>\n";
  append_page_end(out);
  return out;
}

std::string_view error_page(int status) {
  return rendered_page(status).text;
}

ErrorPageParts error_page_parts(int status) {
  const RenderedPage& page = rendered_page(status);
  const std::string_view text = page.text;
  return {text.substr(0, page.id_at), text.substr(page.id_at)};
}

}  // namespace collage
