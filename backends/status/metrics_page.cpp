#include "metrics_page.h"

#include <fmt/format.h>

#include "collage/status_source.h"
#include "scoreboard_totals.h"

namespace collage::status {
namespace {

void family(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(out), "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

std::string render_metrics(const Scoreboard& board, std::int64_t now_ms) {
  (void)now_ms;
  const ScoreboardGlobal& global = board.global();
  const Totals t = add_up(board);
  std::string out;
  out.reserve(16 * 1024);
  auto to = std::back_inserter(out);
  family(out, "collage_build_info", "gauge", "The running server; the value is always 1.");
  fmt::format_to(to, "collage_build_info{{mpm=\"{}\"}} 1\n", global.mpm);
  family(out, "collage_start_time_seconds", "gauge", "When the server started, in Unix time.");
  fmt::format_to(to, "collage_start_time_seconds {:.3f}\n",
                 static_cast<double>(global.started_ms.load()) / 1000.0);
  family(out, "collage_generation", "gauge",
         "The configuration generation serving now (1 at start, +1 each reload).");
  fmt::format_to(to, "collage_generation {}\n", global.generation.load());
  family(out, "collage_children", "gauge", "Child processes, by status.");
  fmt::format_to(to, "collage_children{{status=\"serving\"}} {}\n", t.processes - t.stopping);
  fmt::format_to(to, "collage_children{{status=\"stopping\"}} {}\n", t.stopping);
  family(out, "collage_workers", "gauge",
         "Worker slots (threads under worker and prefork; connection slots under event).");
  fmt::format_to(to, "collage_workers{{state=\"busy\"}} {}\n", t.busy_workers);
  fmt::format_to(to, "collage_workers{{state=\"idle\"}} {}\n", t.idle_workers);
  family(out, "collage_accept_failures_total", "counter",
         "accept() failures (out of descriptors or memory).");
  fmt::format_to(to, "collage_accept_failures_total {}\n", t.accept_failures);
  family(out, "collage_refused_connections_total", "counter",
         "Connections refused by a cap (FTP's per-server and per-address limits).");
  fmt::format_to(to, "collage_refused_connections_total {}\n", t.refused);
  family(out, "collage_child_full_total", "counter",
         "Times a child stopped accepting because it was full.");
  fmt::format_to(to, "collage_child_full_total {}\n", t.full);
  family(out, "collage_server_full_total", "counter",
         "Times every worker was busy and MaxRequestWorkers allowed no more children.");
  fmt::format_to(to, "collage_server_full_total {}\n", global.server_full.load());
  family(out, "collage_tls_handshakes_in_progress", "gauge",
         "TLS handshakes running now, across every child.");
  fmt::format_to(to, "collage_tls_handshakes_in_progress {}\n", global.tls_handshakes.load());
  family(out, "collage_tls_handshakes_refused_total", "counter",
         "Connections closed before their TLS handshake because TLSMaxHandshakes were running.");
  fmt::format_to(to, "collage_tls_handshakes_refused_total {}\n",
                 global.tls_handshakes_refused.load());
  if (const Metrics* metrics = board.metrics()) {
    metrics->render(out);
  }
  append_metrics_sources(out);
  return out;
}

}  // namespace collage::status
