#pragma once
// Renders the scoreboard the way mod_status does: an HTML page for people and, for ?auto, plain
// "Key: value" lines for scripts.

#include <string>

#include "collage/scoreboard.h"

namespace collage::status {

// refresh_seconds > 0 (?refresh=N, as mod_status) reloads the page by itself without script;
// otherwise a small script refreshes it every 2 s where scripts run.
std::string render_html(const Scoreboard& board, std::int64_t now_ms, int refresh_seconds = 0);
// ?json: the same data for programs.
std::string render_json(const Scoreboard& board, std::int64_t now_ms);
std::string render_auto(const Scoreboard& board, std::int64_t now_ms);

}  // namespace collage::status
