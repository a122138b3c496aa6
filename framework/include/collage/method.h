#pragma once
// Request methods shared by every front end. HTTP names are the vocabulary; FTP and Gopher map
// their commands onto them (RETR → get, STOR → put, LIST → list, …).

#include <cstdint>
#include <string_view>

namespace collage {

enum class Method : std::uint8_t {
  get,
  head,
  post,
  put,
  del,
  options,
  trace,
  connect,
  patch,
  list,    // directory listing (FTP LIST/MLSD, Gopher menus)
  mkdir,   // FTP MKD
  rename,  // FTP RNFR/RNTO
  unknown,
};

inline constexpr int kMethodCount = static_cast<int>(Method::unknown) + 1;

// Maps a method token to a Method; tokens that are not known come back as Method::unknown.
Method method_from_token(std::string_view token);
std::string_view method_name(Method method);

// A small bit set of methods, used for what a store allows and what a filter applies to.
class MethodSet {
 public:
  constexpr MethodSet() = default;
  constexpr MethodSet(std::initializer_list<Method> methods) {
    for (Method m : methods) {
      bits_ |= bit(m);
    }
  }
  static constexpr MethodSet all() {
    MethodSet s;
    s.bits_ = ~std::uint32_t{0};
    return s;
  }
  constexpr bool contains(Method m) const { return (bits_ & bit(m)) != 0; }
  constexpr void add(Method m) { bits_ |= bit(m); }
  constexpr MethodSet operator|(MethodSet other) const {
    MethodSet s;
    s.bits_ = bits_ | other.bits_;
    return s;
  }
  constexpr bool empty() const { return bits_ == 0; }

 private:
  static constexpr std::uint32_t bit(Method m) { return std::uint32_t{1} << static_cast<int>(m); }
  std::uint32_t bits_ = 0;
};

// "GET, HEAD, OPTIONS" for an Allow header, only the HTTP methods, in a fixed order.
void append_allow_header_value(MethodSet methods, std::string& out);

}  // namespace collage
