#pragma once
// Renders the scoreboard the way mod_status does: an HTML page for people and, for ?auto, plain
// "Key: value" lines for scripts.

#include <string>

#include "collage/scoreboard.h"

namespace collage::status {

std::string render_html(const Scoreboard& board, std::int64_t now_ms);
std::string render_auto(const Scoreboard& board, std::int64_t now_ms);

}  // namespace collage::status
