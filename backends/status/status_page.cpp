#include "status_page.h"

#include "collage/status_source.h"

#include <fmt/format.h>

#include <cstring>

#include "collage/path.h"

namespace collage::status {
namespace {

struct Totals {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::uint64_t accepted = 0;
  std::uint32_t processes = 0;
  std::uint32_t stopping = 0;
  std::uint32_t connections = 0;
  std::uint32_t keepalive = 0;
  std::uint32_t busy_workers = 0;
  std::uint32_t idle_workers = 0;
  std::uint64_t accept_failures = 0;
  std::uint64_t refused = 0;
  std::uint64_t full = 0;
  std::string letters;  // one per worker slot, rows separated by nothing (as mod_status)
};

bool worker_is_busy(WorkerState state) {
  return state != WorkerState::open && state != WorkerState::ready &&
         state != WorkerState::starting;
}

Totals add_up(const Scoreboard& board) {
  Totals t;
  const ScoreboardGlobal& global = board.global();
  t.requests = global.requests_of_exited;
  t.bytes = global.bytes_of_exited;
  t.accepted = global.accepted_of_exited;
  t.accept_failures = global.accept_failures_of_exited;
  t.refused = global.refused_of_exited;
  t.full = global.full_of_exited;
  for (std::uint32_t row = 0; row < board.servers(); ++row) {
    const ChildScore& child = board.child(row);
    const ChildStatus status = child.status;
    if (status != ChildStatus::empty) {
      ++t.processes;
      t.stopping += status == ChildStatus::stopping ? 1 : 0;
      t.requests += child.requests;
      t.bytes += child.bytes;
      t.accepted += child.accepted;
      t.accept_failures += child.accept_failures;
      t.refused += child.refused;
      t.full += child.full;
      t.connections += child.connections;
      t.keepalive += child.keepalive;
    }
    for (std::uint32_t slot = 0; slot < board.threads(); ++slot) {
      WorkerState state = board.worker(row, slot).state;
      if (status == ChildStatus::empty) {
        state = WorkerState::open;
      } else if (status == ChildStatus::stopping && worker_is_busy(state)) {
        state = WorkerState::finishing;
      }
      if (state == WorkerState::ready) {
        ++t.idle_workers;
      } else if (worker_is_busy(state)) {
        ++t.busy_workers;
      }
      t.letters += state_letter(state);
    }
  }
  return t;
}

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
  fmt::format_to(std::back_inserter(out), "Scoreboard: {}\n", t.letters);
  for (const StatusSection& section : collect_status_sections()) {
    for (const StatusLine& line : section.lines) {
      fmt::format_to(std::back_inserter(out), "{}: {}\n", line.name, line.value);
    }
  }
  return out;
}

std::string render_html(const Scoreboard& board, std::int64_t now_ms) {
  const Totals t = add_up(board);
  const ScoreboardGlobal& global = board.global();
  const double uptime = seconds_since(global.started_ms, now_ms);
  std::string out =
      "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Collage status</title>"
      "<style>body{font-family:sans-serif}td,th{padding:0 .6em;text-align:right}"
      "td.l,th.l{text-align:left}pre{font-size:1.1em}</style></head><body>\n"
      "<h1>Collage server status</h1>\n<dl>\n";
  auto line = [&out](std::string_view name, const std::string& value) {
    out += "<dt>";
    out += name;
    out += "</dt><dd>";
    append_html_escaped(value, out);
    out += "</dd>\n";
  };
  line("MPM", global.mpm);
  line("Generation", std::to_string(global.generation.load()));
  line("Uptime", fmt::format("{:.0f} s (since last restart {:.0f} s)", uptime,
                             seconds_since(global.restarted_ms, now_ms)));
  line("Total accesses", std::to_string(t.requests));
  line("Total traffic", fmt::format("{:.1f} MiB", static_cast<double>(t.bytes) / 1048576.0));
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
  line("Connections", fmt::format("{} open, {} waiting in keep-alive", t.connections, t.keepalive));
  line("Limits reached",
       fmt::format("{} failed accepts (out of descriptors or memory), {} connections refused by a "
                   "cap, {} times a child was full",
                   t.accept_failures, t.refused, t.full));
  out += "</dl>\n";
  for (const StatusSection& section : collect_status_sections()) {
    out += "<h2>";
    append_html_escaped(section.title, out);
    out += "</h2>\n<dl>\n";
    for (const StatusLine& entry : section.lines) {
      line(entry.name, entry.value);
    }
    out += "</dl>\n";
  }
  out +=
      "<h2>Processes</h2>\n<table><tr><th>Slot</th><th>PID</th><th>Generation</th>"
      "<th class=l>Status</th><th>Connections</th><th>Busy</th><th>Keep-alive</th>"
      "<th>Accepted</th><th>Requests</th><th>Bytes</th></tr>\n";
  for (std::uint32_t row = 0; row < board.servers(); ++row) {
    const ChildScore& child = board.child(row);
    if (child.status == ChildStatus::empty) {
      continue;
    }
    fmt::format_to(std::back_inserter(out),
                   "<tr><td>{}</td><td>{}</td><td>{}</td><td class=l>{}</td><td>{}</td>"
                   "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                   row, child.pid.load(), child.generation.load(), child_status_name(child.status),
                   child.connections.load(), child.busy.load(), child.keepalive.load(),
                   child.accepted.load(), child.requests.load(), child.bytes.load());
  }
  out += "</table>\n<h2>Scoreboard</h2>\n<pre>";
  for (std::size_t i = 0; i < t.letters.size(); i += 64) {
    out += std::string_view(t.letters).substr(i, 64);
    out += '\n';
  }
  out +=
      "</pre>\n<p>\"_\" waiting for a connection, \"S\" starting, \"R\" reading, \"W\" writing, "
      "\"K\" keep-alive, \"C\" closing, \"L\" logging, \"G\" finishing gracefully, \".\" open "
      "slot.</p>\n<h2>";
  out += event ? "Connection slots" : "Workers";
  out +=
      "</h2>\n<table><tr><th>Slot</th><th class=l>State</th>"
      "<th>Requests</th><th>Bytes</th><th>Seconds</th><th class=l>Client</th>"
      "<th class=l>Request</th></tr>\n";
  for (std::uint32_t row = 0; row < board.servers(); ++row) {
    if (board.child(row).status == ChildStatus::empty) {
      continue;
    }
    for (std::uint32_t slot = 0; slot < board.threads(); ++slot) {
      const WorkerScore& worker = board.worker(row, slot);
      if (worker.requests == 0 && worker_is_busy(worker.state) == false) {
        continue;  // never used: nothing to say
      }
      fmt::format_to(std::back_inserter(out),
                     "<tr><td>{}-{}</td><td class=l>{}</td><td>{}</td><td>{}</td><td>{:.1f}</td>"
                     "<td class=l>",
                     row, slot, state_name(worker.state), worker.requests.load(),
                     worker.bytes.load(), seconds_since(worker.changed_ms, now_ms));
      append_html_escaped(
          std::string_view(worker.client, ::strnlen(worker.client, sizeof worker.client)), out);
      out += "</td><td class=l>";
      append_html_escaped(
          std::string_view(worker.request, ::strnlen(worker.request, sizeof worker.request)), out);
      out += "</td></tr>\n";
    }
  }
  out += "</table>\n</body></html>\n";
  return out;
}

}  // namespace collage::status
