#include "quick_answers.h"

#include <chrono>

#include <fmt/format.h>
#include "cache_key.h"
#include "file_tier.h"

namespace collage::cache {
namespace {

std::int64_t seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// scheme://host/path?query, into a buffer each thread reuses (no allocation once it is grown).
const std::string& quick_key(const Request& request) {
  thread_local std::string key;
  key.clear();
  key += request_scheme(request);
  key += "://";
  key += request.host;
  key += request.path;
  key += '?';
  key += request.query;
  return key;
}

}  // namespace

bool quick_eligible(const Request& request) {
  if ((request.method != Method::get && request.method != Method::head) || request.depth != 0 ||
      request.read_offset || request.store_only || request.body != nullptr) {
    return false;
  }
  for (const auto& [name, value] : request.headers.fields()) {
    if (name.empty()) {
      continue;
    }
    switch (name[0] | 0x20) {  // a first-letter sieve before the case-insensitive compares
      case 'r':
        if (iequals(name, "Range")) {
          return false;
        }
        break;
      case 'i':
        if (istarts_with(name, "If-")) {
          return false;
        }
        break;
      case 'c':
        if (iequals(name, "Cache-Control")) {
          return false;
        }
        break;
      case 'p':
        if (iequals(name, "Pragma")) {
          return false;
        }
        break;
      case 'a':
        if (iequals(name, "Authorization")) {
          return false;
        }
        break;
      default: break;
    }
  }
  return true;
}

QuickAnswers::Shard& QuickAnswers::shard_for(const std::string& key) const {
  return shards_[std::hash<std::string>{}(key) % kShards];
}

bool QuickAnswers::answer(const Request& request, Entity& out) const {
  if (count_.load(std::memory_order_relaxed) == 0 || !quick_eligible(request)) {
    return false;
  }
  const std::string& key = quick_key(request);
  Shard& shard = shard_for(key);
  std::shared_ptr<const Answer> answer;
  {
    const std::lock_guard lock(shard.mutex);
    const auto it = shard.answers.find(key);
    if (it == shard.answers.end()) {
      return false;
    }
    answer = it->second;
  }
  const std::int64_t now = seconds_now();
  const StoredEntry& entry = *answer->entry;
  SharedIndex& index = entry.tier->index();
  if (now >= answer->fresh_until || index.version(entry.hash) != entry.version ||
      index.epoch() != entry.epoch) {
    const std::lock_guard lock(shard.mutex);
    if (const auto it = shard.answers.find(key);
        it != shard.answers.end() && it->second == answer) {
      shard.answers.erase(it);
      count_.fetch_sub(1, std::memory_order_relaxed);
    }
    return false;
  }
  if (!answer->vary.empty() && variant_of(request, answer->vary) != answer->variant) {
    return false;
  }
  out.reset();
  out.status = answer->head.status;
  out.content_type_keeper = answer->content_type;
  if (answer->content_type != nullptr) {
    out.content_type = *answer->content_type;
  }
  out.etag = answer->head.etag;
  out.last_modified = answer->head.last_modified;
  out.headers = answer->head.headers;
  out.length = entry.body_length();
  entry.append_body(out.body);
  const std::int64_t age = entry.head.corrected_initial_age() +
                           std::max<std::int64_t>(0, now - entry.head.response_time());
  out.headers.add("Age", std::to_string(age));
  out.headers.add("Cache-Status", fmt::format("Collage; hit; ttl={}; detail=quick",
                                              entry.head.freshness_lifetime() - age));
  index.touch(entry.hash);
  index.count(Counter::found);
  if (answer->counts != nullptr) {
    answer->counts->count(Counter::hits);
  }
  return true;
}

void QuickAnswers::remember(const RequestContext& ctx, const Entity& final,
                            std::shared_ptr<StoredEntry> entry, SharedIndex* counts) const {
  const proto::CacheEntryHead& head = entry->head;
  const std::int64_t fresh_until =
      head.response_time() + head.freshness_lifetime() - head.corrected_initial_age();
  if (fresh_until <= seconds_now() || head.no_cache()) {
    return;
  }
  auto answer = std::make_shared<Answer>();
  answer->head.status = final.status;
  if (!final.content_type.empty()) {
    answer->content_type = std::make_shared<const std::string>(final.content_type);
  }
  answer->head.etag = final.etag;
  answer->head.last_modified = final.last_modified;
  for (const auto& [name, value] : final.headers.fields()) {
    if (!iequals(name, "Age") && !iequals(name, "Cache-Status")) {
      answer->head.headers.add(name, value);
    }
  }
  answer->vary = vary_names(final);
  if (!answer->vary.empty()) {
    answer->variant = variant_of(ctx.request, answer->vary);
  }
  answer->entry = std::move(entry);
  answer->fresh_until = fresh_until;
  answer->counts = counts;
  std::string key = quick_key(ctx.request);
  Shard& shard = shard_for(key);
  const std::lock_guard lock(shard.mutex);
  if (shard.answers.size() >= kAnswersPerShard) {
    shard.answers.erase(shard.answers.begin());  // bounded: an arbitrary one makes room
    count_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (shard.answers.insert_or_assign(std::move(key), std::move(answer)).second) {
    count_.fetch_add(1, std::memory_order_relaxed);
  }
}

}  // namespace collage::cache
