#include "control_process.h"

#include "collage/core_settings.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "collage/log.h"
#include "collage/scoreboard.h"
#include "collage/systemd.h"
#include "config_admin.h"
#include "control_listener.h"
#include "pid_file.h"
#include "privileges.h"

namespace collage::control {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Child {
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  bool stopping = false;  // asked to stop; no longer counted in the pool
};

class ControlProcess final : public ServingControl {
 public:
  ControlProcess(std::unique_ptr<Server> server, std::unique_ptr<Mpm> mpm,
                 const ConfigLoader& loader)
      : server_(std::move(server)),
        mpm_(std::move(mpm)),
        plan_(mpm_->plan()),
        loader_(loader),
        admin_(loader) {}

  int run();

  std::uint32_t serving_generation() const override { return generation_; }
  std::shared_ptr<const Generation> serving() const override { return server_->generation(); }
  bool replace(std::shared_ptr<Generation> generation, std::string& why) override {
    return replace_with(std::move(generation), true, why);
  }

 private:
  const Scope& scope() const { return server_->generation()->server_scope(); }
  ProcessSettings process() const { return process_settings(scope()); }
  void spawn();
  void reap();
  void maintain();
  void restart(bool graceful);
  bool replace_with(std::shared_ptr<Generation> generation, bool graceful, std::string& why);
  void wait_for_events(const sigset_t& handled, int& signal);
  void begin_stop(bool graceful);
  void signal_children(int signal, bool only_old);
  std::uint32_t free_row() const;
  // How many children MaxRequestWorkers and ServerLimit allow at once.
  std::uint32_t children_allowed() const {
    return std::min(plan_.server_limit, std::max<std::uint32_t>(1, plan_.max_request_workers /
                                                                       plan_.threads_per_child));
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<Mpm> mpm_;
  ProcessPlan plan_;
  const ConfigLoader& loader_;
  ConfigAdmin admin_;
  ControlListener channel_;
  int signal_fd_ = -1;
  std::unique_ptr<Scoreboard> board_;
  std::map<pid_t, Child> children_;
  std::uint32_t generation_ = 1;
  std::string pid_file_;
  bool stopping_ = false;
  Clock::time_point kill_at_ = Clock::time_point::max();
  Clock::time_point next_maintenance_ = Clock::now();
  Clock::time_point next_shrink_ = Clock::now();
  std::uint32_t spawn_rate_ = 1;
  std::uint32_t replacements_owed_ = 0;  // children that died or were recycled: replace at once
  bool full_ = false;  // every worker busy and no child may be added: said once per episode
};

namespace {

// Every connection is a descriptor, and an event child may hold thousands that wait: raise the
// soft limit to the hard one (as nginx's worker_rlimit_nofile does), children inherit it.
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &limit) == 0) {
      COLLAGE_LOG(LogLevel::info, "COL-CONTROL-0020", "open files limit raised from {} to {}",
                  before, limit.rlim_max);
    }
  }
}

}  // namespace

int ControlProcess::run() {
  raise_descriptor_limit();
  board_ = Scoreboard::create(plan_.server_limit, plan_.thread_limit);
  if (!board_) {
    COLLAGE_LOG(LogLevel::emerg, "COL-CONTROL-0001", "cannot map the scoreboard");
    return 1;
  }
  set_running_scoreboard(board_.get());
  ScoreboardGlobal& global = board_->global();
  global.parent = ::getpid();
  global.generation = generation_;
  global.started_ms = global.restarted_ms = wall_clock_ms();
  const std::string_view mpm_name = mpm_->name();
  std::copy_n(mpm_name.data(), std::min(mpm_name.size(), sizeof global.mpm - 1), global.mpm);

  pid_file_ = process_settings(scope()).pid_file;
  std::string error;
  if (!write_pid_file(pid_file_, error)) {
    COLLAGE_LOG(LogLevel::emerg, "COL-CONTROL-0002", "{}", error);
    return 1;
  }
  if (::geteuid() == 0 && !process().user) {
    COLLAGE_LOG(LogLevel::warn, "COL-CONTROL-0003",
                "children keep root rights: add <User>nobody</User> (or a user of their own, with "
                "<Group>) so they drop them after binding the ports; the control process stays "
                "root");
  }

  sigset_t handled;
  sigemptyset(&handled);
  for (int signal : {SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGWINCH, SIGCHLD}) {
    sigaddset(&handled, signal);
  }
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  signal_fd_ = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  channel_.open();
  admin_.started(generation_, "start", "command line", admin_.read_file());

  for (std::uint32_t i = 0; i < plan_.start_servers; ++i) {
    spawn();
  }
  COLLAGE_LOG(LogLevel::notice, "COL-CONTROL-0004",
              "{} MPM: control process {} started {} child(ren)", mpm_->name(), ::getpid(),
              children_.size());
  // The listeners were bound before the children started: connections queue from here on.
  notify_systemd(
      fmt::format("READY=1\nSTATUS=generation {} serving\nMAINPID={}", generation_, ::getpid()));

  for (;;) {
    int signal = 0;
    wait_for_events(handled, signal);
    switch (signal) {
      case SIGTERM:
      case SIGINT: begin_stop(false); break;
      case SIGWINCH: begin_stop(true); break;
      case SIGHUP:
      case SIGUSR1:
        notify_systemd("RELOADING=1");
        restart(signal == SIGUSR1);
        // Ready again on the new generation, or still on the old one if it was refused.
        notify_systemd(fmt::format("READY=1\nSTATUS=generation {} serving", generation_));
        break;
      default: break;
    }
    reap();
    if (stopping_) {
      if (children_.empty()) {
        break;
      }
      if (Clock::now() >= kill_at_) {
        COLLAGE_LOG(LogLevel::warn, "COL-CONTROL-0005", "killing {} child(ren) that did not stop",
                    children_.size());
        signal_children(SIGKILL, false);
        kill_at_ = Clock::time_point::max();
      }
      continue;
    }
    maintain();
  }
  server_->remove_unix_sockets();
  remove_pid_file(pid_file_);
  COLLAGE_LOG(LogLevel::notice, "COL-CONTROL-0006", "stopped");
  return 0;
}

// Sleeps until a signal comes, an admin call arrives from a child, or 200 ms pass (the pool is
// looked after on that beat). Admin calls are answered here, one at a time.
void ControlProcess::wait_for_events(const sigset_t& handled, int& signal) {
  if (signal_fd_ < 0) {  // no signalfd: the old way, signals only
    timespec tick{0, 200'000'000};
    siginfo_t info;
    signal = std::max(0, ::sigtimedwait(&handled, &info, &tick));
    return;
  }
  pollfd watched[2] = {{signal_fd_, POLLIN, 0}, {channel_.fd(), POLLIN, 0}};
  const int count = channel_.fd() >= 0 && !stopping_ ? 2 : 1;
  if (::poll(watched, count, 200) <= 0) {
    return;
  }
  if ((watched[0].revents & POLLIN) != 0) {
    signalfd_siginfo info{};
    if (::read(signal_fd_, &info, sizeof info) == sizeof info) {
      signal = static_cast<int>(info.ssi_signo);
    }
  }
  if (count == 2 && (watched[1].revents & POLLIN) != 0) {
    reap();  // a child that asks is known, even one started since the last beat
    channel_.serve_one(
        [this](pid_t pid) { return children_.contains(pid); },
        [this](const std::string& request) { return admin_.handle(request, *this); });
  }
}

std::uint32_t ControlProcess::free_row() const {
  for (std::uint32_t row = 0; row < board_->servers(); ++row) {
    if (board_->child(row).status == ChildStatus::empty) {
      return row;
    }
  }
  return board_->servers();
}

void ControlProcess::spawn() {
  const std::uint32_t row = free_row();
  if (row == board_->servers()) {
    return;  // every row is taken, some by children of the old generation still finishing
  }
  ChildScore& score = board_->child(row);
  score.status = ChildStatus::starting;
  score.generation = generation_;
  score.started_ms = wall_clock_ms();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) {
    score.status = ChildStatus::empty;
    COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0007", "fork failed: {}", std::strerror(errno));
    return;
  }
  if (pid == 0) {
    // The child: stop with the parent, leave root behind, serve, and never return into the
    // control process's loop.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) {
      ::_exit(0);
    }
    channel_.close();  // children call it; only the control process listens
    ::close(signal_fd_);
    for (const VirtualHost& host : server_->generation()->virtual_hosts()) {
      for (const auto& location : host.locations) {
        if (location->store != nullptr) {
          location->store->prepare_child();
        }
      }
    }
    std::string error;
    if (!drop_privileges(process().user.value_or(""), process().group.value_or(""), error)) {
      COLLAGE_LOG(LogLevel::emerg, "COL-CONTROL-0008", "child cannot start: {}", error);
      ::_exit(1);
    }
    score.pid = ::getpid();
    ChildContext context{*server_, *board_, row, generation_, plan_.max_connections_per_child};
    const int status = mpm_->run_child(context);
    sync_access_logs();  // what the writer threads still hold goes out before _exit
    ::_exit(status);
  }
  score.pid = pid;
  children_[pid] = Child{row, generation_, false};
}

void ControlProcess::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) {
      return;
    }
    auto it = children_.find(pid);
    if (it == children_.end()) {
      continue;
    }
    const Child child = it->second;
    children_.erase(it);
    board_->retire_child(child.slot);
    if (WIFSIGNALED(status) && !stopping_) {
      COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0009",
                  "child {} died on signal {}; starting a replacement", pid, WTERMSIG(status));
      ++replacements_owed_;
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0 && !stopping_) {
      COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0010", "child {} exited with status {}", pid,
                  WEXITSTATUS(status));
    } else if (!child.stopping && !stopping_) {
      // It stopped on its own: MaxConnectionsPerChild recycled it.
      COLLAGE_LOG(LogLevel::info, "COL-CONTROL-0011", "child {} recycled", pid);
      ++replacements_owed_;
    }
  }
}

void ControlProcess::maintain() {
  const auto now = Clock::now();
  std::uint32_t serving = 0;
  std::uint32_t idle = 0;
  pid_t youngest_unused = 0;
  for (const auto& [pid, child] : children_) {
    if (child.stopping || child.generation != generation_) {
      continue;
    }
    ++serving;
    const ChildScore& score = board_->child(child.slot);
    const std::uint32_t busy =
        plan_.connection_holds_worker ? score.connections.load() : score.busy.load();
    idle += plan_.threads_per_child - std::min(busy, plan_.threads_per_child);
    // Only a child with nothing open is stopped to trim the pool: stopping one that carries a
    // connection would end that connection (an HTTP/2 client's next stream would be refused).
    if (score.connections.load() == 0) {
      youngest_unused = std::max(youngest_unused, pid);
    }
  }
  const std::uint32_t most_children = children_allowed();
  // A child that died takes its capacity with it: replace every one at once, whatever the count.
  if (serving == 0 || replacements_owed_ > 0) {
    const std::uint32_t count = std::max<std::uint32_t>(
        1, std::min(replacements_owed_, most_children - std::min(serving, most_children)));
    for (std::uint32_t i = 0; i < count; ++i) {
      spawn();
    }
    replacements_owed_ = 0;
    return;
  }
  if (now < next_maintenance_) {
    return;
  }
  next_maintenance_ = now + 1s;
  // As httpd's "server reached MaxRequestWorkers": new connections now wait in the listen queue.
  const bool full = idle == 0 && serving >= most_children;
  if (full && !full_) {
    board_->global().server_full.fetch_add(1, std::memory_order_relaxed);
    COLLAGE_LOG(LogLevel::warn, "COL-CONTROL-0022",
                "every worker is busy and MaxRequestWorkers ({}) allows no more children: new "
                "connections wait in the listen queue",
                plan_.max_request_workers);
  }
  full_ = full;
  if (idle < plan_.min_spare && serving < most_children) {
    // Like httpd: start 1, then 2, 4 ... 32 per second while the shortage lasts.
    const std::uint32_t count = std::min(spawn_rate_, most_children - serving);
    for (std::uint32_t i = 0; i < count; ++i) {
      spawn();
    }
    COLLAGE_LOG(LogLevel::info, "COL-CONTROL-0012",
                "{} idle worker(s), fewer than {}: started {} child(ren)", idle, plan_.min_spare,
                count);
    spawn_rate_ = std::min<std::uint32_t>(spawn_rate_ * 2, 32);
    return;
  }
  spawn_rate_ = 1;
  if (idle > plan_.max_spare && serving > 1 && youngest_unused != 0 && now >= next_shrink_) {
    next_shrink_ = now + 1s;
    children_[youngest_unused].stopping = true;
    board_->child(children_[youngest_unused].slot).status = ChildStatus::stopping;
    ::kill(youngest_unused, SIGUSR1);
    COLLAGE_LOG(LogLevel::info, "COL-CONTROL-0013",
                "{} idle worker(s), more than {}: stopping child {}", idle, plan_.max_spare,
                youngest_unused);
  }
}

void ControlProcess::signal_children(int signal, bool only_old) {
  for (auto& [pid, child] : children_) {
    if (!only_old || child.generation != generation_) {
      child.stopping = true;
      ::kill(pid, signal);
    }
  }
}

void ControlProcess::begin_stop(bool graceful) {
  if (stopping_ && graceful) {
    return;
  }
  stopping_ = true;
  notify_systemd("STOPPING=1");
  COLLAGE_LOG(LogLevel::notice, "COL-CONTROL-0014", "{}: stopping {} child(ren)",
              graceful ? "graceful stop" : "stop", children_.size());
  signal_children(graceful ? SIGWINCH : SIGTERM, false);
  const auto grace = graceful ? server_settings(scope()).graceful_shutdown_timeout : 0ms;
  kill_at_ = Clock::now() + grace + 5s;
}

void ControlProcess::restart(bool graceful) {
  const char* kind = graceful ? "graceful restart" : "restart";
  std::string source = admin_.read_file();
  std::shared_ptr<Generation> generation = loader_.reload();
  std::string why = "the configuration did not load";
  if (!generation || !replace_with(std::move(generation), graceful, why)) {
    COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0015", "{}: {}; still serving the running one", kind,
                why);
    return;
  }
  admin_.started(generation_, graceful ? "graceful restart" : "restart", "signal",
                 std::move(source));
}

bool ControlProcess::replace_with(std::shared_ptr<Generation> generation, bool graceful,
                                  std::string& why) {
  const char* kind = graceful ? "graceful restart" : "restart";
  std::unique_ptr<Mpm> mpm = loader_.make_mpm(*generation);
  if (!mpm) {
    why = "the MPM it names could not be made";
    return false;
  }
  if (mpm->name() != mpm_->name()) {
    why = fmt::format("changing the MPM from {} to {} needs a stop and a start", mpm_->name(),
                      mpm->name());
    COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0016", "{}: {}", kind, why);
    return false;
  }
  auto server = std::make_unique<Server>(generation);
  if (!server->bind_listeners(server_.get())) {
    why = "the new listeners could not be bound (the error log says why)";
    return false;
  }
  std::string error;
  if (!generation->open_logs(error)) {
    why = error;
    return false;
  }
  // The error log is reopened too (logrotate's postrotate runs collage -k graceful, as with
  // apachectl); a file that cannot be opened leaves the old one in use.
  const ServerSettings& next = generation->settings();
  error_log().set_json(next.error_log_format == "json");
  if (!error_log().open(next.error_log, error)) {
    COLLAGE_LOG(LogLevel::error, "COL-CONTROL-0021", "{}: {}; the error log stays where it was",
                kind, error);
  }
  LogLevel level = LogLevel::info;
  if (parse_log_level(next.log_level, level)) {
    error_log().set_level(level);
  }
  ProcessPlan plan = mpm->plan();
  // The scoreboard was sized at start: its limits hold until the server stops (as in httpd).
  if (plan.server_limit != plan_.server_limit || plan.thread_limit != plan_.thread_limit) {
    COLLAGE_LOG(LogLevel::warn, "COL-CONTROL-0017",
                "ServerLimit and ThreadLimit change only with a stop and a start");
  }
  plan.server_limit = plan_.server_limit;
  plan.thread_limit = plan_.thread_limit;
  plan.threads_per_child = std::min(plan.threads_per_child, plan.thread_limit);

  // The new generation starts as large as the pool it replaces (what the load needed), not at
  // StartServers: under prefork, growing back at 1, 2, 4 children a second made clients wait
  // half a second after each graceful restart (bench/admin_apply_bench.py).
  const auto serving_before = static_cast<std::uint32_t>(std::count_if(
      children_.begin(), children_.end(),
      [&](const auto& c) { return c.second.generation == generation_ && !c.second.stopping; }));
  ++generation_;
  signal_children(graceful ? SIGUSR1 : SIGTERM, true);
  for (auto& [pid, child] : children_) {
    board_->child(child.slot).status = ChildStatus::stopping;
  }
  server_ = std::move(server);
  mpm_ = std::move(mpm);
  plan_ = plan;
  board_->global().generation = generation_;
  board_->global().restarted_ms = wall_clock_ms();
  const std::uint32_t most_children = children_allowed();
  const std::uint32_t starting =
      std::min(std::max(plan_.start_servers, serving_before), most_children);
  for (std::uint32_t i = 0; i < starting; ++i) {
    spawn();
  }
  COLLAGE_LOG(LogLevel::notice, "COL-CONTROL-0018",
              "{}: generation {} serving; {} old child(ren) finishing", kind, generation_,
              std::count_if(children_.begin(), children_.end(),
                            [&](const auto& c) { return c.second.generation != generation_; }));
  return true;
}

}  // namespace

int run_control_process(std::unique_ptr<Server> server, std::unique_ptr<Mpm> mpm,
                        const ConfigLoader& loader) {
  ControlProcess control(std::move(server), std::move(mpm), loader);
  return control.run();
}

}  // namespace collage::control
