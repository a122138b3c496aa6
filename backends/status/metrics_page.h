#pragma once
// The metrics store's answer: every family in the Prometheus text exposition format (0.0.4).

#include <string>

#include "collage/scoreboard.h"

namespace collage::status {

std::string render_metrics(const Scoreboard& board, std::int64_t now_ms);

}  // namespace collage::status
