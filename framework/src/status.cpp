#include "collage/status.h"

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

#define COLLAGE_ERROR_PAGE(code, text)                           \
  case code:                                                     \
    return "<!DOCTYPE html>\n<html><head><title>" #code " " text \
           "</title></head>\n"                                   \
           "<body><h1>" #code " " text "</h1></body></html>\n"

std::string_view error_page(int status) {
  switch (status) {
    COLLAGE_ERROR_PAGE(400, "Bad Request");
    COLLAGE_ERROR_PAGE(403, "Forbidden");
    COLLAGE_ERROR_PAGE(404, "Not Found");
    COLLAGE_ERROR_PAGE(405, "Method Not Allowed");
    COLLAGE_ERROR_PAGE(408, "Request Timeout");
    COLLAGE_ERROR_PAGE(409, "Conflict");
    COLLAGE_ERROR_PAGE(411, "Length Required");
    COLLAGE_ERROR_PAGE(412, "Precondition Failed");
    COLLAGE_ERROR_PAGE(413, "Content Too Large");
    COLLAGE_ERROR_PAGE(414, "URI Too Long");
    COLLAGE_ERROR_PAGE(416, "Range Not Satisfiable");
    COLLAGE_ERROR_PAGE(417, "Expectation Failed");
    COLLAGE_ERROR_PAGE(431, "Request Header Fields Too Large");
    COLLAGE_ERROR_PAGE(500, "Internal Server Error");
    COLLAGE_ERROR_PAGE(501, "Not Implemented");
    COLLAGE_ERROR_PAGE(503, "Service Unavailable");
    COLLAGE_ERROR_PAGE(505, "HTTP Version Not Supported");
    COLLAGE_ERROR_PAGE(507, "Insufficient Storage");
    default:
      return "<!DOCTYPE html>\n<html><head><title>Error</title></head>\n"
             "<body><h1>Error</h1></body></html>\n";
  }
}

#undef COLLAGE_ERROR_PAGE

}  // namespace collage
