#include "collage/shared_values.h"

#include <mutex>

namespace collage {
namespace {

std::mutex values_mutex;
std::shared_ptr<SharedValues> values;

}  // namespace

void set_shared_values(std::shared_ptr<SharedValues> provided) {
  const std::lock_guard lock(values_mutex);
  values = std::move(provided);
}

std::shared_ptr<SharedValues> shared_values() {
  const std::lock_guard lock(values_mutex);
  return values;
}

}  // namespace collage
