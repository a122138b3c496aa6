#pragma once
// A proxied response's body as the client pulls it: bytes the head's read brought along first,
// then reads from the upstream, framed by Content-Length, chunked coding or the server's close.
// At a clean end the connection goes back to the pool; cut short, it is closed.

#include <memory>
#include <string>

#include "balancer.h"
#include "collage/body_stream.h"
#include "collage/chunked.h"
#include "response_head.h"
#include "upstream_socket.h"

namespace collage::proxy {

// Counts a request in flight at a server (least connections) for as long as it lives.
class InFlight {
 public:
  explicit InFlight(UpstreamServer* server) : server_(server) { server_->active.fetch_add(1); }
  ~InFlight() { server_->active.fetch_sub(1); }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;

 private:
  UpstreamServer* server_;
};

class ProxyBody final : public BodyStream {
 public:
  ProxyBody(std::unique_ptr<gateway::UpstreamSocket> socket, std::unique_ptr<InFlight> in_flight,
            std::string buffered, BodyKind kind, std::uint64_t length, bool keep_alive,
            std::string upstream);
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  StreamStatus finish(bool clean);

  std::unique_ptr<gateway::UpstreamSocket> socket_;
  std::unique_ptr<InFlight> in_flight_;
  std::string buffer_;
  BodyKind kind_;
  std::uint64_t left_;
  bool keep_alive_;
  std::string upstream_;
  ChunkedDecoder chunks_;
};

}  // namespace collage::proxy
