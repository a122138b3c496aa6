#pragma once
// FastCGI records (FastCGI 1.0 specification §3, §8): what a web server sends an application
// server (BEGIN_REQUEST, PARAMS, STDIN) and reads back (STDOUT, STDERR, END_REQUEST). Pure byte
// work, no I/O, so it is unit tested and fuzzed on its own.

#include <cstdint>
#include <string>
#include <string_view>

namespace collage::fastcgi {

enum RecordType : std::uint8_t {
  kBeginRequest = 1,
  kAbortRequest = 2,
  kEndRequest = 3,
  kParams = 4,
  kStdin = 5,
  kStdout = 6,
  kStderr = 7,
  kGetValuesResult = 10,
  kUnknownType = 11,
};

inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::size_t kMaxContent = 65535;
inline constexpr std::uint8_t kRequestComplete = 0;  // END_REQUEST protocolStatus

// Appends one record (content of at most kMaxContent bytes, padded to a multiple of 8).
void append_record(RecordType type, std::uint16_t request_id, std::string_view content,
                   std::string& out);
// Appends as many records of `type` as `content` needs (none for empty content).
void append_stream(RecordType type, std::uint16_t request_id, std::string_view content,
                   std::string& out);
// BEGIN_REQUEST for the responder role; keep_connection asks the server not to close after.
void append_begin_request(std::uint16_t request_id, bool keep_connection, std::string& out);
// One name-value pair of PARAMS content (§3.4).
void append_name_value(std::string_view name, std::string_view value, std::string& out);

struct Record {
  std::uint8_t type = 0;
  std::uint16_t request_id = 0;
  std::string_view content;  // points into the parsed buffer
};

enum class ParseResult : std::uint8_t { record, need_more, bad_version };

// Parses the record at the start of `data`; on `record`, `consumed` is its whole size.
ParseResult parse_record(std::string_view data, Record& out, std::size_t& consumed);

// END_REQUEST content: the application's exit status and the protocol status.
bool parse_end_request(std::string_view content, std::uint32_t& app_status,
                       std::uint8_t& protocol_status);

}  // namespace collage::fastcgi
