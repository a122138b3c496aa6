#include "fastcgi_record.h"

namespace collage::fastcgi {
namespace {

void append_length(std::size_t length, std::string& out) {
  if (length < 128) {
    out += static_cast<char>(length);
    return;
  }
  out += static_cast<char>(((length >> 24) & 0x7f) | 0x80);
  out += static_cast<char>((length >> 16) & 0xff);
  out += static_cast<char>((length >> 8) & 0xff);
  out += static_cast<char>(length & 0xff);
}

}  // namespace

void append_record(RecordType type, std::uint16_t request_id, std::string_view content,
                   std::string& out) {
  const std::size_t padding = (8 - content.size() % 8) % 8;
  out += static_cast<char>(1);  // version
  out += static_cast<char>(type);
  out += static_cast<char>(request_id >> 8);
  out += static_cast<char>(request_id & 0xff);
  out += static_cast<char>(content.size() >> 8);
  out += static_cast<char>(content.size() & 0xff);
  out += static_cast<char>(padding);
  out += '\0';
  out.append(content);
  out.append(padding, '\0');
}

void append_stream(RecordType type, std::uint16_t request_id, std::string_view content,
                   std::string& out) {
  while (!content.empty()) {
    const std::size_t n = std::min(content.size(), kMaxContent - kMaxContent % 8);
    append_record(type, request_id, content.substr(0, n), out);
    content.remove_prefix(n);
  }
}

void append_begin_request(std::uint16_t request_id, bool keep_connection, std::string& out) {
  const char body[8] = {0, 1, static_cast<char>(keep_connection ? 1 : 0), 0, 0, 0, 0, 0};
  append_record(kBeginRequest, request_id, std::string_view(body, 8), out);
}

void append_name_value(std::string_view name, std::string_view value, std::string& out) {
  append_length(name.size(), out);
  append_length(value.size(), out);
  out.append(name);
  out.append(value);
}

ParseResult parse_record(std::string_view data, Record& out, std::size_t& consumed) {
  if (data.size() < kHeaderSize) {
    return ParseResult::need_more;
  }
  const auto byte = [&](std::size_t i) { return static_cast<std::uint8_t>(data[i]); };
  if (byte(0) != 1) {
    return ParseResult::bad_version;
  }
  const std::size_t length = (std::size_t{byte(4)} << 8) | byte(5);
  const std::size_t total = kHeaderSize + length + byte(6);
  if (data.size() < total) {
    return ParseResult::need_more;
  }
  out.type = byte(1);
  out.request_id = static_cast<std::uint16_t>((byte(2) << 8) | byte(3));
  out.content = data.substr(kHeaderSize, length);
  consumed = total;
  return ParseResult::record;
}

bool parse_end_request(std::string_view content, std::uint32_t& app_status,
                       std::uint8_t& protocol_status) {
  if (content.size() < 8) {
    return false;
  }
  const auto byte = [&](std::size_t i) {
    return std::uint32_t{static_cast<std::uint8_t>(content[i])};
  };
  app_status = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
  protocol_status = static_cast<std::uint8_t>(content[4]);
  return true;
}

}  // namespace collage::fastcgi
