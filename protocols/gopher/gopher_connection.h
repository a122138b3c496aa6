#pragma once
// One Gopher (RFC 1436) exchange: read a selector line, answer it through the middle end, write
// the entity in Gopher's form, close.

#include <chrono>
#include <string>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/protocol.h"
#include "collage/request.h"
#include "collage/services.h"
#include "collage/transport.h"
#include "collage/watchdog.h"

namespace collage::gopher_protocol {

struct Settings {
  std::size_t max_selector = 1024;  // longer selector lines are refused with an error item
  std::chrono::milliseconds timeout{10'000};  // to receive the selector; also per send wait
  bool text_framing = true;                   // RFC 1436 framing for text items
};

// Splits a selector line (CR/LF already removed) at the first tab: the selector, and the search
// words of a type-7 query (empty if none). Gopher+ markers after a second tab are dropped.
void split_selector_line(std::string_view line, std::string_view& selector,
                         std::string_view& search);

// Text items (RFC 1436): CRLF line ends, lines starting with '.' doubled, a final ".\r\n".
// Call with successive pieces of the text; `at_line_start` carries state between calls.
void append_text_item(std::string_view piece, bool& at_line_start, std::string& out);
void finish_text_item(bool at_line_start, std::string& out);

// An error item and the end of the menu, for status (404 …) on selector.
std::string error_menu(int status, std::string_view selector);

class Connection final : public TrackedConnection {
 public:
  Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
             const Settings& settings);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Task<void> run();
  void drain() override;

 private:
  Task<void> session();
  Task<bool> read_line(std::string& line);
  Task<bool> send(std::string_view data, bool more);
  // Text items are dot-stuffed with CRLF line ends; the state carries over between parts.
  struct TextState {
    bool at_line_start = true;
    std::string out;
  };
  Task<bool> write_entity(Entity& entity);
  Task<bool> write_binary(const Brigade& part, bool last);
  Task<bool> write_text(const Brigade& part, TextState& state, bool last);
  void log_access(std::string_view selector, int status, std::uint64_t bytes,
                  std::string_view cache_status = {}, const Request* request = nullptr);

  std::unique_ptr<Transport> transport_;
  asio::ip::tcp::socket& socket_;  // the TCP socket under the transport
  Watchdog watchdog_;
  ConnectionContext context_;
  const Settings& settings_;
  ConnectionTracker::Handle tracker_handle_;
  PeerInfo peer_;
  bool idle_ = true;
  std::uint64_t bytes_sent_ = 0;
};

}  // namespace collage::gopher_protocol
