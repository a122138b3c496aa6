#include "status_page.h"

#include "scoreboard_totals.h"

#include "collage/status_source.h"

#include <fmt/format.h>

#include <cstring>

#include "collage/http_date.h"
#include "collage/page.h"
#include "collage/path.h"
#include "protocol_activity.h"
#include "status_charts.h"

namespace collage::status {
namespace {

std::string_view child_status_name(ChildStatus status) {
  switch (status) {
    case ChildStatus::starting: return "starting";
    case ChildStatus::serving: return "serving";
    case ChildStatus::stopping: return "stopping";
    default: return "empty";
  }
}

double seconds_since(std::int64_t then_ms, std::int64_t now_ms) {
  return then_ms > 0 && now_ms > then_ms ? static_cast<double>(now_ms - then_ms) / 1000.0 : 0.0;
}

}  // namespace

std::string render_auto(const Scoreboard& board, std::int64_t now_ms) {
  const Totals t = add_up(board);
  const ScoreboardGlobal& global = board.global();
  const double uptime = seconds_since(global.started_ms, now_ms);
  std::string out;
  fmt::format_to(std::back_inserter(out), "ServerMPM: {}\n", global.mpm);
  fmt::format_to(std::back_inserter(out), "ServerGeneration: {}\n", global.generation.load());
  fmt::format_to(std::back_inserter(out), "ServerUptimeSeconds: {}\n",
                 static_cast<std::uint64_t>(uptime));
  fmt::format_to(std::back_inserter(out), "Total Accesses: {}\n", t.requests);
  fmt::format_to(std::back_inserter(out), "Total kBytes: {}\n", t.bytes / 1024);
  fmt::format_to(std::back_inserter(out), "Total Connections: {}\n", t.accepted);
  fmt::format_to(std::back_inserter(out), "ReqPerSec: {:.3f}\n",
                 uptime > 0 ? static_cast<double>(t.requests) / uptime : 0.0);
  fmt::format_to(std::back_inserter(out), "BusyWorkers: {}\n", t.busy_workers);
  fmt::format_to(std::back_inserter(out), "IdleWorkers: {}\n", t.idle_workers);
  fmt::format_to(std::back_inserter(out), "Processes: {}\n", t.processes);
  fmt::format_to(std::back_inserter(out), "Stopping: {}\n", t.stopping);
  fmt::format_to(std::back_inserter(out), "ConnsTotal: {}\n", t.connections);
  fmt::format_to(std::back_inserter(out), "ConnsAsyncKeepAlive: {}\n", t.keepalive);
  fmt::format_to(std::back_inserter(out), "AcceptFailures: {}\n", t.accept_failures);
  fmt::format_to(std::back_inserter(out), "RefusedConnections: {}\n", t.refused);
  fmt::format_to(std::back_inserter(out), "ChildFull: {}\n", t.full);
  fmt::format_to(std::back_inserter(out), "ServerFull: {}\n", global.server_full.load());
  fmt::format_to(std::back_inserter(out), "TLSHandshakesRefused: {}\n",
                 global.tls_handshakes_refused.load());
  fmt::format_to(std::back_inserter(out), "Scoreboard: {}\n", t.letters);
  for (const StatusSection& section : collect_status_sections()) {
    for (const StatusLine& line : section.lines) {
      fmt::format_to(std::back_inserter(out), "{}: {}\n", line.name, line.value);
    }
  }
  return out;
}

namespace {

constexpr std::string_view kStatusStyle =
    "<style>.chart{margin:0 0 1rem}.chart svg{width:100%;height:9rem;display:block;"
    "background:var(--card);border:1px solid var(--line);border-radius:10px}"
    ".chart .plot{fill:none}.chart .grid{stroke:var(--line);stroke-width:1;"
    "vector-effect:non-scaling-stroke}figcaption{font-weight:600;margin:.25rem 0}"
    ".legend{list-style:none;padding:0;margin:.35rem 0 0;display:flex;flex-wrap:wrap;gap:.3rem "
    "1rem;"
    "font-size:.9rem}.swatch{display:inline-block;width:.8rem;height:.8rem;border-radius:2px;"
    "margin-right:.35rem;vertical-align:-1px}.charts{display:grid;gap:.5rem;"
    "grid-template-columns:repeat(auto-fit,minmax(18rem,1fr))}dl{display:grid;"
    "grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:var(--muted)}"
    "dd{margin:0;overflow-wrap:anywhere}.scroll{overflow-x:auto}"
    "@media (max-width:640px){dl{grid-template-columns:1fr;gap:0}dd{margin-bottom:.4rem}}"
    "</style>\n";

// Keeps the charts moving where scripts run: the page fetches itself and swaps its <main>.
constexpr std::string_view kRefreshScript =
    "<script>setInterval(async()=>{try{const r=await fetch(location.href,{cache:'no-store'});"
    "if(!r.ok)return;const d=new DOMParser().parseFromString(await r.text(),'text/html');"
    "const m=d.querySelector('main');if(m)document.querySelector('main').replaceWith(m);}"
    "catch(e){}},2000);</script>\n";

void append_number_cell(std::string& out, const std::string& text) {
  out += "<td class=n>";
  out += text;
  out += "</td>";
}

}  // namespace

std::string render_html(const Scoreboard& board, std::int64_t now_ms, int refresh_seconds) {
  const Totals t = add_up(board);
  const ScoreboardGlobal& global = board.global();
  const double uptime = seconds_since(global.started_ms, now_ms);
  std::string out;
  out.reserve(32 * 1024);
  append_page_start("Collage server status", out);
  if (refresh_seconds > 0) {
    fmt::format_to(std::back_inserter(out), "<meta http-equiv=\"refresh\" content=\"{}\">\n",
                   refresh_seconds);
  }
  out += kStatusStyle;
  char date[40] = {};
  format_http_date(static_cast<std::time_t>(now_ms / 1000), date);
  fmt::format_to(std::back_inserter(out),
                 "<h1>Collage server status</h1>\n<p class=muted id=\"taken\" data-ms=\"{}\">As "
                 "of {}.</p>\n<div class=card><dl>\n",
                 now_ms, date);
  auto line = [&out](std::string_view name, const std::string& value) {
    out += "<dt>";
    append_html_escaped(name, out);
    out += "</dt><dd>";
    append_html_escaped(value, out);
    out += "</dd>\n";
  };
  line("MPM", global.mpm);
  line("Generation", std::to_string(global.generation.load()));
  line("Uptime", fmt::format("{:.0f} s (since last restart {:.0f} s)", uptime,
                             seconds_since(global.restarted_ms, now_ms)));
  line("Total accesses", std::to_string(t.requests));
  line("Total traffic", short_number(static_cast<double>(t.bytes)) + "B");
  line("Requests per second",
       fmt::format("{:.3f}", uptime > 0 ? static_cast<double>(t.requests) / uptime : 0.0));
  // Under the event MPM a slot follows a connection, not a thread: its workers only take
  // blocking work, so calling slots "workers" would misread the numbers.
  const bool event = std::string_view(global.mpm) == "event";
  if (event) {
    line("Connection slots", fmt::format("{} in use, {} free (each child shows its first "
                                         "connections in detail; the Processes table counts all)",
                                         t.busy_workers, t.idle_workers));
  } else {
    line("Workers", fmt::format("{} busy, {} idle", t.busy_workers, t.idle_workers));
  }
  line("Connections", fmt::format("{} open, {} serving a request, {} waiting in keep-alive",
                                  t.connections, t.busy, t.keepalive));
  line("Limits reached",
       fmt::format("{} failed accepts (out of descriptors or memory), {} connections refused by a "
                   "cap (of them {} TLS handshakes past TLSMaxHandshakes), {} times a child was "
                   "full, {} times every worker was busy",
                   t.accept_failures, t.refused, global.tls_handshakes_refused.load(), t.full,
                   global.server_full.load()));
  out += "</dl></div>\n";

  if (const Metrics* metrics = board.metrics()) {
    const ProtocolActivity activity = protocol_activity(*metrics);
    out += "<h2>Protocols</h2>\n<div class=charts>\n";
    append_chart(activity, ChartMeasure::requests, out);
    append_chart(activity, ChartMeasure::bytes, out);
    append_chart(activity, ChartMeasure::connections, out);
    out +=
        "</div>\n<div class=scroll><table id=\"protocols\"><tr><th>Protocol</th>"
        "<th class=n>Requests</th><th class=n>Requests/s</th><th class=n>Traffic</th>"
        "<th class=n>Bytes/s</th><th class=n>Open connections</th><th class=n>Busy</th>"
        "<th class=n>Keep-alive</th></tr>\n";
    for (std::size_t p = 0; p < kProtocolKinds; ++p) {
      const std::string_view name = protocol_kind_name(static_cast<ProtocolKind>(p));
      if (p == static_cast<std::size_t>(ProtocolKind::other) && activity.now.requests[p] == 0 &&
          activity.now.connections[p] == 0) {
        continue;  // no plugin front end has served anything
      }
      fmt::format_to(std::back_inserter(out), "<tr data-protocol=\"{}\"><td>{}</td>", name, name);
      append_number_cell(out, std::to_string(activity.now.requests[p]));
      append_number_cell(out, fmt::format("{:.1f}", activity.recent_requests_per_second[p]));
      append_number_cell(out, short_number(static_cast<double>(activity.now.bytes[p])) + "B");
      append_number_cell(out, short_number(activity.recent_bytes_per_second[p]) + "B");
      append_number_cell(out, std::to_string(activity.now.connections[p]));
      append_number_cell(out, std::to_string(activity.now.busy[p]));
      append_number_cell(out, std::to_string(activity.now.keepalive[p]));
      out += "</tr>\n";
    }
    out +=
        "</table></div>\n<p class=muted>Rates are averaged over the last 10 seconds. FTP counts "
        "each file transfer as a request. Busy: serving a request; keep-alive: waiting for the "
        "next one; the rest are reading one.</p>\n";
  }

  for (const StatusSection& section : collect_status_sections()) {
    out += "<h2>";
    append_html_escaped(section.title, out);
    out += "</h2>\n<div class=card><dl>\n";
    for (const StatusLine& entry : section.lines) {
      line(entry.name, entry.value);
    }
    out += "</dl></div>\n";
  }
  out +=
      "<h2>Processes</h2>\n<div class=scroll><table><tr><th class=n>Slot</th><th class=n>PID</th>"
      "<th class=n>Generation</th><th>Status</th><th class=n>Connections</th><th class=n>Busy</th>"
      "<th class=n>Keep-alive</th><th class=n>Accepted</th><th class=n>Requests</th>"
      "<th class=n>Bytes</th></tr>\n";
  for_each_child(board, [&out](std::uint32_t row, const ChildScore& child) {
    fmt::format_to(std::back_inserter(out),
                   "<tr><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td>{}</td>"
                   "<td class=n>{}</td><td class=n>{}</td><td class=n>{}</td><td class=n>{}</td>"
                   "<td class=n>{}</td><td class=n>{}</td></tr>\n",
                   row, child.pid.load(), child.generation.load(), child_status_name(child.status),
                   child.connections.load(), child.busy.load(), child.keepalive.load(),
                   child.accepted.load(), child.requests.load(), child.bytes.load());
  });
  out += "</table></div>\n<h2>Scoreboard</h2>\n<div class=card><pre>";
  for (std::size_t i = 0; i < t.letters.size(); i += 64) {
    out += std::string_view(t.letters).substr(i, 64);
    out += '\n';
  }
  out +=
      "</pre></div>\n<p class=muted>\"_\" waiting for a connection, \"S\" starting, \"R\" "
      "reading, \"W\" writing, \"K\" keep-alive, \"C\" closing, \"L\" logging, \"G\" finishing "
      "gracefully, \".\" open slot.</p>\n<h2>";
  out += event ? "Connection slots" : "Workers";
  out +=
      "</h2>\n<div class=scroll><table><tr><th>Slot</th><th>State</th>"
      "<th class=n>Requests</th><th class=n>Bytes</th><th class=n>Seconds</th><th>Client</th>"
      "<th>Request</th></tr>\n";
  for_each_used_worker(board, [&](std::uint32_t row, std::uint32_t slot,
                                  const WorkerScore& worker) {
    fmt::format_to(std::back_inserter(out),
                   "<tr><td>{}-{}</td><td>{}</td><td class=n>{}</td><td class=n>{}</td>"
                   "<td class=n>{:.1f}</td><td class=name>",
                   row, slot, state_name(worker.state), worker.requests.load(), worker.bytes.load(),
                   seconds_since(worker.changed_ms, now_ms));
    append_html_escaped(
        std::string_view(worker.client, ::strnlen(worker.client, sizeof worker.client)), out);
    out += "</td><td class=name>";
    append_html_escaped(
        std::string_view(worker.request, ::strnlen(worker.request, sizeof worker.request)), out);
    out += "</td></tr>\n";
  });
  out += "</table></div>\n";
  if (refresh_seconds == 0) {
    out += kRefreshScript;
  }
  append_page_end(out);
  return out;
}

}  // namespace collage::status
