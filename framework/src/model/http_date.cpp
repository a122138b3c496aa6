#include "collage/http_date.h"

#include <cstring>
#include <ctime>

#include "collage/metadata.h"

namespace collage {
namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void two_digits(char* out, int value) {
  out[0] = static_cast<char>('0' + value / 10);
  out[1] = static_cast<char>('0' + value % 10);
}

int month_index(std::string_view name) {
  for (int i = 0; i < 12; ++i) {
    if (name == kMonths[i]) {
      return i;
    }
  }
  return -1;
}

bool parse_int(std::string_view text, int& out) {
  if (text.empty() || text.size() > 4) {
    return false;
  }
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + (c - '0');
  }
  return true;
}

bool parse_clock(std::string_view text, std::tm& tm) {
  return text.size() == 8 && text[2] == ':' && text[5] == ':' &&
         parse_int(text.substr(0, 2), tm.tm_hour) && parse_int(text.substr(3, 2), tm.tm_min) &&
         parse_int(text.substr(6, 2), tm.tm_sec) && tm.tm_hour < 24 && tm.tm_min < 60 &&
         tm.tm_sec < 61;
}

}  // namespace

void format_http_date(std::time_t when, char* out) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  std::memcpy(out, kDays[tm.tm_wday], 3);
  out[3] = ',';
  out[4] = ' ';
  two_digits(out + 5, tm.tm_mday);
  out[7] = ' ';
  std::memcpy(out + 8, kMonths[tm.tm_mon], 3);
  out[11] = ' ';
  const int year = tm.tm_year + 1900;
  two_digits(out + 12, year / 100);
  two_digits(out + 14, year % 100);
  out[16] = ' ';
  two_digits(out + 17, tm.tm_hour);
  out[19] = ':';
  two_digits(out + 20, tm.tm_min);
  out[22] = ':';
  two_digits(out + 23, tm.tm_sec);
  std::memcpy(out + 25, " GMT", 4);
}

std::optional<std::time_t> parse_http_date(std::string_view text) {
  std::tm tm{};
  int year = 0;
  const std::size_t comma = text.find(',');
  if (comma == 3 && text.size() == kHttpDateLength) {
    // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
    if (text[4] != ' ' || text[7] != ' ' || text[11] != ' ' || text[16] != ' ' ||
        text.substr(25) != " GMT" || !parse_int(text.substr(5, 2), tm.tm_mday) ||
        !parse_int(text.substr(12, 4), year) || !parse_clock(text.substr(17, 8), tm)) {
      return std::nullopt;
    }
    tm.tm_mon = month_index(text.substr(8, 3));
  } else if (comma != std::string_view::npos && comma > 3) {
    // obsolete RFC 850: Sunday, 06-Nov-94 08:49:37 GMT
    std::string_view rest = text.substr(comma + 1);
    if (rest.size() != 23 || rest[0] != ' ' || rest[3] != '-' || rest[7] != '-' ||
        rest[10] != ' ' || rest.substr(19) != " GMT" || !parse_int(rest.substr(1, 2), tm.tm_mday) ||
        !parse_int(rest.substr(8, 2), year) || !parse_clock(rest.substr(11, 8), tm)) {
      return std::nullopt;
    }
    year += year < 70 ? 2000 : 1900;
    tm.tm_mon = month_index(rest.substr(4, 3));
  } else if (text.size() == 24) {
    // obsolete asctime: Sun Nov  6 08:49:37 1994
    if (text[3] != ' ' || text[7] != ' ' || text[10] != ' ' || text[19] != ' ' ||
        !parse_clock(text.substr(11, 8), tm) || !parse_int(text.substr(20, 4), year)) {
      return std::nullopt;
    }
    std::string_view day = text.substr(8, 2);
    if (day[0] == ' ') {
      day.remove_prefix(1);
    }
    if (!parse_int(day, tm.tm_mday)) {
      return std::nullopt;
    }
    tm.tm_mon = month_index(text.substr(4, 3));
  } else {
    return std::nullopt;
  }
  if (tm.tm_mon < 0 || tm.tm_mday < 1 || tm.tm_mday > 31 || year < 1970) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  return ::timegm(&tm);
}

std::string_view cached_http_date_now() {
  thread_local std::time_t cached_second = 0;
  thread_local char buffer[kHttpDateLength];
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    format_http_date(now, buffer);
  }
  return std::string_view(buffer, kHttpDateLength);
}

}  // namespace collage
