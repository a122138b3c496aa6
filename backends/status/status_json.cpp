// ?json: what the status page shows, for programs (and the page's tests).

#include <fmt/format.h>

#include <cstring>

#include "collage/json_text.h"
#include "collage/status_source.h"
#include "protocol_activity.h"
#include "scoreboard_totals.h"
#include "status_page.h"

namespace collage::status {

std::string render_json(const Scoreboard& board, std::int64_t now_ms) {
  const Totals t = add_up(board);
  const ScoreboardGlobal& global = board.global();
  std::string out;
  out.reserve(16 * 1024);
  auto to = std::back_inserter(out);
  out += "{\"server\":{\"mpm\":";
  append_json_string(global.mpm, out);
  fmt::format_to(to,
                 ",\"generation\":{},\"started_ms\":{},\"restarted_ms\":{},\"now_ms\":{}}},"
                 "\"totals\":{{\"requests\":{},\"bytes\":{},\"accepted\":{},\"processes\":{},"
                 "\"stopping\":{},\"connections\":{},\"busy\":{},\"keepalive\":{},"
                 "\"busy_workers\":{},\"idle_workers\":{},\"accept_failures\":{},\"refused\":{},"
                 "\"full\":{}}},\"scoreboard\":\"{}\"",
                 global.generation.load(), global.started_ms.load(), global.restarted_ms.load(),
                 now_ms, t.requests, t.bytes, t.accepted, t.processes, t.stopping, t.connections,
                 t.busy, t.keepalive, t.busy_workers, t.idle_workers, t.accept_failures, t.refused,
                 t.full, t.letters);
  if (const Metrics* metrics = board.metrics()) {
    const ProtocolActivity activity = protocol_activity(*metrics);
    out += ",\"protocols\":{";
    for (std::size_t p = 0; p < kProtocolKinds; ++p) {
      fmt::format_to(
          to,
          "{}\"{}\":{{\"requests\":{},\"bytes\":{},\"connections\":{},\"busy\":{},"
          "\"keepalive\":{},\"requests_per_second\":{:.3f},\"bytes_per_second\":{:.1f}}}",
          p == 0 ? "" : ",", protocol_kind_name(static_cast<ProtocolKind>(p)),
          activity.now.requests[p], activity.now.bytes[p], activity.now.connections[p],
          activity.now.busy[p], activity.now.keepalive[p], activity.recent_requests_per_second[p],
          activity.recent_bytes_per_second[p]);
    }
    out += "},\"history\":[";
    for (std::size_t i = 0; i < activity.points.size(); ++i) {
      const ProtocolPoint& point = activity.points[i];
      fmt::format_to(to, "{}{{\"second\":{}", i == 0 ? "" : ",", point.second);
      for (std::size_t p = 0; p < kProtocolKinds; ++p) {
        fmt::format_to(
            to, ",\"{}\":[{:.3f},{:.1f},{}]", protocol_kind_name(static_cast<ProtocolKind>(p)),
            point.requests_per_second[p], point.bytes_per_second[p], point.connections[p]);
      }
      out += '}';
    }
    out += ']';
  }
  out += ",\"children\":[";
  bool first = true;
  for_each_child(board, [&](std::uint32_t row, const ChildScore& child) {
    fmt::format_to(to,
                   "{}{{\"slot\":{},\"pid\":{},\"generation\":{},\"status\":{},\"connections\":{},"
                   "\"busy\":{},\"keepalive\":{},\"accepted\":{},\"requests\":{},\"bytes\":{}}}",
                   first ? "" : ",", row, child.pid.load(), child.generation.load(),
                   static_cast<int>(child.status.load()), child.connections.load(),
                   child.busy.load(), child.keepalive.load(), child.accepted.load(),
                   child.requests.load(), child.bytes.load());
    first = false;
  });
  out += "],\"workers\":[";
  first = true;
  for_each_used_worker(board, [&](std::uint32_t row, std::uint32_t slot,
                                  const WorkerScore& worker) {
    fmt::format_to(to,
                   "{}{{\"child\":{},\"slot\":{},\"state\":\"{}\",\"requests\":{},\"bytes\":{},"
                   "\"client\":",
                   first ? "" : ",", row, slot, state_name(worker.state), worker.requests.load(),
                   worker.bytes.load());
    append_json_string(
        std::string_view(worker.client, ::strnlen(worker.client, sizeof worker.client)), out);
    out += ",\"request\":";
    append_json_string(
        std::string_view(worker.request, ::strnlen(worker.request, sizeof worker.request)), out);
    out += '}';
    first = false;
  });
  out += "],\"sections\":{";
  first = true;
  for (const StatusSection& section : collect_status_sections()) {
    out += first ? "" : ",";
    first = false;
    append_json_string(section.title, out);
    out += ":{";
    for (std::size_t i = 0; i < section.lines.size(); ++i) {
      out += i == 0 ? "" : ",";
      append_json_string(section.lines[i].name, out);
      out += ':';
      append_json_string(section.lines[i].value, out);
    }
    out += '}';
  }
  out += "}}\n";
  return out;
}

}  // namespace collage::status
