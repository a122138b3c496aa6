#include "config_admin.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "admin.pb.h"
#include "collage/log.h"
#include "collage/scoreboard.h"
#include "config_json.h"
#include "config_tree.h"

namespace collage::control {
namespace {

// Generations remembered for listing and rolling back.
constexpr std::size_t kKeptGenerations = 32;

using Clock = std::chrono::steady_clock;

void add_errors(const ConfigErrors& errors,
                google::protobuf::RepeatedPtrField<admin::ConfigError>& out) {
  for (const ConfigErrors::Located& e : errors.located()) {
    admin::ConfigError& error = *out.Add();
    error.set_file(e.where.file);
    error.set_line(static_cast<std::uint32_t>(std::max(e.where.line, 0)));
    error.set_column(static_cast<std::uint32_t>(std::max(e.where.column, 0)));
    error.set_message(e.where.str() + ": " + e.message);
  }
}

void add_error(const std::string& message,
               google::protobuf::RepeatedPtrField<admin::ConfigError>& out) {
  out.Add()->set_message(message);
}

// Writes text to path through a temporary file and a rename, so readers see the old file or the
// new one, never a part.
bool write_atomically(const std::string& path, const std::string& text, std::string& error) {
  const std::string temporary = path + ".tmp-" + std::to_string(::getpid());
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = fd >= 0;
  for (std::size_t done = 0; ok && done < text.size();) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    ok = n > 0;
    done += ok ? static_cast<std::size_t>(n) : 0;
  }
  ok = ok && ::fsync(fd) == 0;
  if (fd >= 0) {
    ok = ::close(fd) == 0 && ok;
  }
  ok = ok && ::rename(temporary.c_str(), path.c_str()) == 0;
  if (!ok) {
    error = "cannot write " + path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
  }
  return ok;
}

}  // namespace

void ConfigAdmin::started(std::uint32_t number, std::string how, std::string by, std::string source,
                          std::string comment) {
  history_.push_front(Ran{number, wall_clock_ms(), std::move(by), std::move(how),
                          std::move(comment), std::move(source)});
  if (history_.size() > kKeptGenerations) {
    history_.pop_back();
  }
}

std::string ConfigAdmin::read_file() const {
  std::ifstream in(loader_.file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const ConfigAdmin::Ran* ConfigAdmin::find(std::uint32_t number) const {
  for (const Ran& ran : history_) {
    if (ran.number == number) {
      return &ran;
    }
  }
  return nullptr;
}

std::string ConfigAdmin::handle(const std::string& bytes, ServingControl& control) {
  admin::ControlRequest request;
  admin::ControlReply reply;
  if (!request.ParseFromString(bytes)) {
    reply.set_refused("the request is not a ControlRequest message");
    return reply.SerializeAsString();
  }
  const std::string& caller = request.caller();
  const Clock::time_point began = Clock::now();

  // A candidate's text: its XML, or the XML its JSON form stands for.
  auto candidate_text = [](const admin::Candidate& candidate, std::string& text,
                           std::string& error) {
    if (!candidate.xml().empty()) {
      text = candidate.xml();
      return true;
    }
    if (!candidate.has_json()) {
      error = "the candidate has neither xml nor json";
      return false;
    }
    return config_json_to_xml(candidate.json(), text, error);
  };

  // Loads text and, when it loads, makes it the serving configuration.
  auto apply = [&](const std::string& text, bool persist, const std::string& how,
                   const std::string& comment, admin::ApplyResult& result) {
    ConfigErrors errors;
    std::shared_ptr<Generation> next = loader_.load(text, errors);
    std::string why;
    if (!next || !errors.empty()) {
      add_errors(errors, *result.mutable_errors());
      if (errors.empty()) {
        add_error("the candidate did not load", *result.mutable_errors());
      }
    } else if (!control.replace(std::move(next), why)) {
      add_error(why, *result.mutable_errors());
    } else {
      result.set_ok(true);
      started(control.serving_generation(), how, caller, text, comment);
      result.set_took_us(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - began).count()));
    }
    result.set_generation(control.serving_generation());
    if (!result.ok()) {
      COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0011",
                  "{} by {} refused, generation {} keeps serving: {}", how, caller,
                  control.serving_generation(),
                  result.errors_size() > 0 ? result.errors(0).message() : "");
      return;
    }
    COLLAGE_LOG(LogLevel::notice, "COL-ADMIN-0010", "{} by {}: generation {} serving{}{}", how,
                caller, result.generation(), comment.empty() ? "" : "; ", comment);
    if (persist) {
      std::string error;
      const std::string previous = loader_.file + ".previous";
      const std::string old = read_file();
      if (write_atomically(previous, old, error) && write_atomically(loader_.file, text, error)) {
        result.set_written_to(loader_.file);
        result.set_previous_kept(previous);
        COLLAGE_LOG(LogLevel::notice, "COL-ADMIN-0012", "{} written (the old one kept as {})",
                    loader_.file, previous);
      } else {
        add_error("applied, but not written: " + error, *result.mutable_errors());
        COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0013", "applied, but not written: {}", error);
      }
    }
  };

  switch (request.what_case()) {
    case admin::ControlRequest::kGetConfig: {
      admin::ConfigView& view = *reply.mutable_config();
      view.set_generation(control.serving_generation());
      view.set_file(loader_.file);
      if (request.get_config().effective()) {
        view.set_xml(loader_.write_effective(*control.serving(), request.get_config().defaults()));
      } else {
        view.set_xml(history_.empty() ? read_file() : history_.front().source);
      }
      std::string error;
      if (!config_xml_to_json(view.xml(), *loader_.directives, *view.mutable_json(), error)) {
        view.clear_json();
      }
      break;
    }
    case admin::ControlRequest::kValidate: {
      admin::ValidateResult& result = *reply.mutable_validated();
      std::string text;
      std::string error;
      if (!candidate_text(request.validate(), text, error)) {
        add_error(error, *result.mutable_errors());
        break;
      }
      ConfigErrors errors;
      const std::shared_ptr<Generation> checked = loader_.load(text, errors);
      add_errors(errors, *result.mutable_errors());
      if (!checked && errors.empty()) {
        add_error("the candidate did not load", *result.mutable_errors());
      }
      result.set_ok(checked != nullptr && result.errors_size() == 0);
      break;
    }
    case admin::ControlRequest::kApply: {
      admin::ApplyResult& result = *reply.mutable_applied();
      std::string text;
      std::string error;
      if (!candidate_text(request.apply(), text, error)) {
        add_error(error, *result.mutable_errors());
        result.set_generation(control.serving_generation());
        break;
      }
      apply(text, request.apply().persist(), "apply", request.apply().comment(), result);
      break;
    }
    case admin::ControlRequest::kChange: {
      const admin::TreeChange& change = request.change();
      admin::TreeResult& result = *reply.mutable_changed();
      TreeEdit edit;
      edit.operation = static_cast<TreeOperation>(change.operation());
      edit.path = change.path();
      edit.xml = change.xml();
      std::string out;
      std::string error;
      const std::string source = history_.empty() ? read_file() : history_.front().source;
      if (!edit_config_tree(source, edit, out, error)) {
        add_error(error, *result.mutable_errors());
        break;
      }
      result.set_xml(out);
      if (edit.operation == TreeOperation::get) {
        result.set_ok(true);
        break;
      }
      apply(out, change.persist(), "change of " + change.path(), change.comment(),
            *result.mutable_applied());
      result.set_ok(result.applied().ok());
      break;
    }
    case admin::ControlRequest::kListGenerations: {
      for (const Ran& ran : history_) {
        admin::GenerationInfo& info = *reply.mutable_generations()->add_generations();
        info.set_number(ran.number);
        info.set_started_ms(ran.started_ms);
        info.set_by(ran.by);
        info.set_how(ran.how);
        info.set_comment(ran.comment);
        info.set_serving(ran.number == control.serving_generation());
      }
      break;
    }
    case admin::ControlRequest::kRollback: {
      admin::ApplyResult& result = *reply.mutable_applied();
      const std::uint32_t to = request.rollback().to();
      const Ran* target = to != 0 ? find(to) : history_.size() > 1 ? &history_[1] : nullptr;
      if (target == nullptr) {
        add_error(to != 0 ? "generation " + std::to_string(to) + " is not remembered"
                          : "there is no earlier generation to roll back to",
                  *result.mutable_errors());
        result.set_generation(control.serving_generation());
        break;
      }
      const std::string text = target->source;  // copied: apply() adds to the history
      apply(text, request.rollback().persist(), "rollback",
            "to generation " + std::to_string(target->number), result);
      break;
    }
    default: reply.set_refused("an empty request"); break;
  }
  return reply.SerializeAsString();
}

}  // namespace collage::control
