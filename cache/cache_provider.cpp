// RFC 9111 for each request of a location: look a response up (fresh, stale-but-allowed, or in
// need of revalidation), make concurrent misses wait for one store call, keep what the store
// made, merge a 304 into the stored head, serve stale on error, invalidate after unsafe methods,
// and answer PURGE. Every response that touched the cache says how in Cache-Status (RFC 9211).

#include "cache_provider.h"

#include <random>

#include <fmt/format.h>
#include "collage/http_date.h"
#include "collage/log.h"
#include "entry_codec.h"
#include "file_tier.h"
#include "quick_answers.h"
#include "tee_stream.h"

namespace collage::cache {
namespace {

using namespace std::chrono_literals;

constexpr std::string_view kCacheName = "Collage";

// Fields that describe one connection or one answer, never stored (RFC 9111 §3.1).
bool is_unstored_field(std::string_view name) {
  for (const std::string_view skip :
       {"Connection", "Keep-Alive", "Proxy-Connection", "Transfer-Encoding", "Upgrade", "TE",
        "Trailer", "Proxy-Authenticate", "Proxy-Authentication-Info", "Age", "Content-Length",
        "Set-Cookie", "Cache-Status"}) {
    if (iequals(name, skip)) {
      return true;
    }
  }
  return false;
}

// A 304's fields that must not replace the stored ones (§3.2: they describe the 304 itself).
bool is_kept_from_stored(std::string_view name) {
  return iequals(name, "Content-Length") || iequals(name, "Content-Encoding") ||
         iequals(name, "Content-Range") || iequals(name, "Transfer-Encoding");
}

struct RequestState {
  std::string primary;
  std::uint64_t primary_hash = 0;
  CacheControl request_cc;
  bool request_no_cache = false;
  std::time_t request_time = 0;
  std::shared_ptr<StoredEntry> stale;   // a stored response the store is asked to revalidate
  std::shared_ptr<StoredEntry> marker;  // the Vary marker found for the primary key
  std::shared_ptr<StoredEntry> served;  // the fresh entry that answered, for the quick path
  bool collapsed = false;               // answered by a fetch another request made
  std::vector<MetadataView::Field> original_headers;
  std::string if_none_match;
  std::string if_modified_since;
  bool validators_added = false;
  std::int64_t fill_token = 0;  // a fill claim held for primary_hash
  std::string outcome;          // Cache-Status parameters so far ("fwd=uri-miss")
};

std::int64_t seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

StoredTimes times_of(const proto::CacheEntryHead& head) {
  StoredTimes t;
  t.corrected_initial_age = head.corrected_initial_age();
  t.response_time = static_cast<std::time_t>(head.response_time());
  t.freshness_lifetime = head.freshness_lifetime();
  t.stale_while_revalidate = head.stale_while_revalidate();
  t.must_revalidate = head.must_revalidate();
  t.no_cache = head.no_cache();
  return t;
}

void set_cache_status(Entity& out, std::string_view parameters) {
  std::string value(kCacheName);
  value += "; ";
  value += parameters;
  out.headers.set("Cache-Status", std::move(value));
}

// Fills out with the stored response (the body shares the entry's file or bytes).
void fill_from(const std::shared_ptr<StoredEntry>& entry, std::time_t now, Entity& out) {
  const proto::CacheEntryHead& head = entry->head;
  out.reset();
  out.status = head.status();
  if (!head.content_type().empty()) {
    // The view lives as long as the entry, which the entity keeps through the aliasing pointer.
    out.content_type_keeper = std::shared_ptr<const std::string>(entry, &head.content_type());
    out.content_type = *out.content_type_keeper;
  }
  out.etag = head.etag();
  if (head.has_last_modified()) {
    out.last_modified = static_cast<std::time_t>(head.last_modified());
  }
  for (const proto::CacheField& field : head.fields()) {
    out.headers.add(field.name(), field.value());
  }
  out.length = entry->body_length();
  entry->append_body(out.body);
  out.headers.set("Age", std::to_string(times_of(head).current_age(now)));
}

proto::CacheEntryHead head_of(const Entity& entity, const RequestState& state,
                              const CacheControl& cc, const StoragePolicy& policy,
                              std::string variant, std::uint64_t marker_id, bool authorization) {
  proto::CacheEntryHead head;
  head.set_key(state.primary);
  head.set_variant(std::move(variant));
  head.set_marker_id(marker_id);
  head.set_status(entity.status);
  head.set_content_type(std::string(entity.content_type));
  head.set_etag(entity.etag);
  if (entity.last_modified) {
    head.set_has_last_modified(true);
    head.set_last_modified(*entity.last_modified);
  }
  for (const auto& [name, value] : entity.headers.fields()) {
    if (!is_unstored_field(name)) {
      proto::CacheField* field = head.add_fields();
      field->set_name(name);
      field->set_value(value);
    }
  }
  const std::time_t response_time = seconds_now();
  std::time_t date = response_time;
  if (const std::optional<std::time_t> d = parse_http_date(entity.headers.get("Date"))) {
    date = *d;
  }
  head.set_request_time(state.request_time);
  head.set_response_time(response_time);
  head.set_corrected_initial_age(
      corrected_initial_age(entity, date, state.request_time, response_time));
  head.set_freshness_lifetime(freshness_lifetime(entity, cc, date, policy));
  head.set_stale_while_revalidate(cc.stale_while_revalidate.value_or(0));
  head.set_stale_if_error(cc.stale_if_error.value_or(0));
  head.set_must_revalidate(cc.must_revalidate || cc.proxy_revalidate || cc.s_maxage.has_value());
  // s-maxage implies proxy-revalidate for a shared cache (§5.2.2.10).
  head.set_no_cache(cc.no_cache);
  head.set_shared_with_authorization(authorization);
  return head;
}

// A request the cache makes on its own behalf, owning everything it refers to.
struct Revalidation {
  std::shared_ptr<const Generation> generation;
  std::string protocol;
  std::string target;
  std::string host;
  std::vector<std::pair<std::string, std::string>> fields;
  PeerInfo peer;
  Request request;
  std::optional<RequestContext> ctx;
  Entity entity;
};

// A copy of ctx.request with "Cache-Control: no-cache", so the provider revalidates it; made
// before the client's request is done with, owning every byte it refers to.
std::unique_ptr<Revalidation> make_revalidation(const RequestContext& ctx) {
  auto job = std::make_unique<Revalidation>();
  const Request& original = ctx.request;
  job->generation = ctx.generation->shared_from_this();
  job->protocol = original.protocol;
  job->target = original.path;
  if (!original.query.empty()) {
    job->target += '?';
    job->target += original.query;
  }
  job->host = original.host;
  for (const auto& [name, value] : original.headers.fields()) {
    if (!iequals(name, "Cache-Control") && !iequals(name, "Pragma")) {
      job->fields.emplace_back(name, value);
    }
  }
  job->fields.emplace_back("Cache-Control", "no-cache");
  if (original.peer != nullptr) {
    job->peer = *original.peer;
  }
  Request& request = job->request;
  request.protocol = job->protocol;
  request.method = Method::get;
  request.method_token = "GET";
  request.target = job->target;
  request.path = original.path;
  const std::size_t question = job->target.find('?');
  request.query = question == std::string::npos
                      ? std::string_view()
                      : std::string_view(job->target).substr(question + 1);
  request.host = job->host;
  for (const auto& [name, value] : job->fields) {
    request.headers.add(name, value);
  }
  request.peer = &job->peer;
  request.secure = original.secure;
  request.user = original.user;
  request.received = std::chrono::system_clock::now();
  request.assign_id();
  return job;
}

// Runs the copy through the pipeline, reads the body to its end (so a tee completes its entry),
// then gives up the fill claim that kept other requests on the stale response meanwhile.
Task<void> revalidate_in_background(std::unique_ptr<Revalidation> job, Services* services,
                                    std::shared_ptr<Tiers> tiers, std::uint64_t hash,
                                    std::int64_t token) {
  job->ctx.emplace(route(*job->generation, job->request, *services));
  co_await respond(*job->ctx, job->entity);
  BodyWalk walk(job->entity);
  Brigade part;
  while (co_await walk.next(part) == StreamStatus::more) {
    part.clear();
  }
  if (SharedIndex* index = tiers->coordination()) {
    index->release_fill(hash, token);
  }
}

// Whether the location serves every front end that shares this request's URL scheme: a quick
// answer is keyed by scheme, so "http" must be open to HTTP/1.1 and HTTP/2 alike.
bool serves_whole_scheme(const RequestContext& ctx) {
  const std::vector<std::string>& allowed = ctx.location.place.protocols;
  auto allows = [&](std::string_view name) {
    return std::find(allowed.begin(), allowed.end(), name) != allowed.end();
  };
  const std::string_view protocol = ctx.request.protocol;
  if (allowed.empty()) {
    return true;
  }
  return protocol == "http1" || protocol == "h2" ? allows("http1") && allows("h2")
                                                 : allows(protocol);
}

// Methods whose success changes what the target (or a rename's destination) holds (§4.4);
// reading ones, FTP's LIST among them, leave the entries alone.
bool changes_content(Method method) {
  switch (method) {
    case Method::post:
    case Method::put:
    case Method::del:
    case Method::patch:
    case Method::mkdir:
    case Method::rename: return true;
    default: return false;
  }
}

class Provider final : public CacheProvider {
 public:
  explicit Provider(ProviderConfig config) : config_(std::move(config)) {
    config_.policy.default_ttl = ttl_for_status;
    config_.policy.default_ttl_context = &config_.valid;
  }

  CachePoint point() const override { return config_.point; }

  Task<std::size_t> purge(RequestContext& ctx) const override {
    if (!config_.enabled) {
      co_return 0;
    }
    const std::string key = primary_key(ctx, config_.point, config_.key);
    std::size_t removed = 0;
    if (const std::size_t star = key.find('*'); star != std::string::npos) {
      removed = config_.tiers->remove_prefix(std::string_view(key).substr(0, star), config_.choice);
    } else {
      const std::uint64_t hash = entry_hash(key, "");
      const bool existed =
          co_await config_.tiers->find(hash, config_.choice, ctx.services) != nullptr;
      co_await config_.tiers->remove(hash, config_.choice, ctx.services);
      removed = existed ? 1 : 0;
    }
    COLLAGE_LOG(LogLevel::info, "COL-CACHE-0005", "{}: PURGE {} removed {} entries",
                ctx.request.peer ? ctx.request.peer->address : "-", printable(key), removed);
    co_return removed;
  }

  Task<bool> intercept(RequestContext& ctx, Entity& out) const override {
    if (!config_.enabled || !config_.purge || ctx.request.method_token != "PURGE") {
      co_return false;
    }
    const std::size_t removed = co_await purge(ctx);
    if (removed == 0) {
      out.set_error(404);
    } else {
      out.set_body(fmt::format("purged {} entr{}\n", removed, removed == 1 ? "y" : "ies"),
                   "text/plain");
    }
    co_return true;
  }

  Task<bool> lookup(RequestContext& ctx, Entity& out) const override {
    Request& request = ctx.request;
    if (!config_.enabled || (request.method != Method::get && request.method != Method::head) ||
        (request.store_only && config_.point == CachePoint::filtered)) {
      co_return false;
    }
    auto state = std::make_shared<RequestState>();
    ctx.cache_state = state;
    state->request_time = seconds_now();
    state->request_cc = cache_control_of(request.headers.fields());
    state->request_no_cache =
        state->request_cc.no_cache ||
        (!request.headers.contains("Cache-Control") &&
         request.headers.get("Pragma").find("no-cache") != std::string_view::npos);
    for (const std::string& header : config_.bypass) {
      if (request.headers.contains(header)) {
        state->outcome = "fwd=bypass";
        co_return false;
      }
    }
    if (state->request_cc.no_store) {
      state->outcome = "fwd=bypass; detail=no-store";
      co_return false;
    }
    state->primary = primary_key(ctx, config_.point, config_.key);
    state->primary_hash = entry_hash(state->primary, "");
    const std::time_t now = seconds_now();

    std::string why_missed = "uri-miss";
    std::shared_ptr<StoredEntry> entry = co_await find_response(ctx, *state, why_missed);
    if (entry == nullptr) {
      // Another request is filling this key: wait for it (bounded) rather than ask the store too.
      SharedIndex* index = config_.tiers->coordination();
      if (index != nullptr && !state->request_cc.only_if_cached &&
          !index->claim_fill(state->primary_hash, config_.lock_timeout.count(),
                             state->fill_token)) {
        entry = co_await wait_for_fill(ctx, *state, *index, why_missed);
        state->collapsed = entry != nullptr;
        if (entry == nullptr) {
          index->claim_fill(state->primary_hash, config_.lock_timeout.count(), state->fill_token);
        }
      }
    }
    if (entry == nullptr) {
      count(Counter::misses);
      if (state->request_cc.only_if_cached) {
        out.set_error(504);  // §5.2.1.7
        set_cache_status(out, "fwd=miss; detail=only-if-cached");
        release(*state);
        co_return true;
      }
      state->outcome = "fwd=" + why_missed;
      co_return false;
    }
    const StoredTimes times = times_of(entry->head);
    const Usable use = usable(times, state->request_cc, state->request_no_cache, now);
    if (use == Usable::stale_revalidating && claim(*state) && ctx.generation != nullptr) {
      // RFC 5861: this client gets the stale response at once; the store is asked behind it.
      asio::co_spawn(
          co_await asio::this_coro::executor,
          revalidate_in_background(make_revalidation(ctx), &ctx.services, config_.tiers,
                                   state->primary_hash, std::exchange(state->fill_token, 0)),
          asio::detached);
    }
    if (use == Usable::fresh || use == Usable::stale_allowed || use == Usable::stale_revalidating) {
      release(*state);
      count(use == Usable::fresh ? Counter::hits : Counter::stale);
      fill_from(entry, now, out);
      if (use == Usable::fresh) {
        state->served = entry;
      }
      const std::int64_t ttl = times.freshness_lifetime - times.current_age(now);
      // RFC 9211: "collapsed" when the answer is another request's fetch this one waited for.
      set_cache_status(out,
                       fmt::format("hit; ttl={}{}{}", ttl, state->collapsed ? "; collapsed" : "",
                                   use == Usable::fresh ? "" : "; detail=stale"));
      co_return true;
    }
    if (use == Usable::must_revalidate && state->request_cc.only_if_cached) {
      release(*state);
      out.set_error(504);
      set_cache_status(out, "fwd=stale; detail=only-if-cached");
      co_return true;
    }
    // Another request is revalidating this entry: wait for its answer (bounded) rather than ask
    // the store too; a client that asked for no-cache is not answered by someone else's fetch.
    SharedIndex* index = config_.tiers->coordination();
    if (!state->request_no_cache && index != nullptr && state->fill_token == 0 &&
        !index->claim_fill(state->primary_hash, config_.lock_timeout.count(), state->fill_token)) {
      std::string ignored;
      std::shared_ptr<StoredEntry> renewed = co_await wait_for_fill(ctx, *state, *index, ignored);
      if (renewed != nullptr && usable(times_of(renewed->head), state->request_cc, false,
                                       seconds_now()) == Usable::fresh) {
        count(Counter::hits);
        fill_from(renewed, seconds_now(), out);
        set_cache_status(out, fmt::format("hit; ttl={}; collapsed",
                                          renewed->head.freshness_lifetime() -
                                              times_of(renewed->head).current_age(seconds_now())));
        co_return true;
      }
      entry = renewed != nullptr ? renewed : entry;
    }
    // Stale (or no-cache): the store is asked, with the stored validators when it has them.
    count(Counter::stale);
    state->stale = entry;
    state->outcome = state->request_no_cache ? "fwd=request" : "fwd=stale";
    add_validators(request, *state);
    co_return false;
  }

  void after_filters(RequestContext& ctx, const Entity& entity) const override {
    const auto* state = static_cast<const RequestState*>(ctx.cache_state.get());
    if (state == nullptr || state->served == nullptr || state->served->tier == nullptr ||
        ctx.generation == nullptr || entity.status != 200 || entity.stream != nullptr ||
        !ctx.location.access.empty() || !serves_whole_scheme(ctx) || !quick_eligible(ctx.request) ||
        !ctx.location.rules_quick_path_safe || ctx.rewrites > 0) {
      return;  // the quick path would skip the access checks, or the rewrite phase
    }
    // Only a body that is the entry's, untouched by any filter, may skip the filters next time.
    const StoredEntry& served = *state->served;
    const std::vector<Bucket>& buckets = entity.body.buckets();
    if (served.body_length() > 0 &&
        (buckets.size() != 1 || buckets[0].kind != Bucket::Kind::file ||
         buckets[0].file != served.file.get() || buckets[0].offset != served.body_offset ||
         buckets[0].length != served.body_length())) {
      return;
    }
    if (const auto* quick = dynamic_cast<const QuickAnswers*>(ctx.generation->quick_cache())) {
      quick->remember(ctx, entity, state->served, config_.tiers->coordination());
    }
  }

  Task<void> store(RequestContext& ctx, Entity& entity) const override {
    Request& request = ctx.request;
    if (request.method != Method::get && request.method != Method::head) {
      if (changes_content(request.method)) {
        co_await invalidate(ctx, entity);
      }
      co_return;
    }
    auto state = std::static_pointer_cast<RequestState>(ctx.cache_state);
    if (!config_.enabled || state == nullptr) {
      co_return;
    }
    restore_headers(request, *state);
    if (state->stale != nullptr) {
      if (entity.status == 304 && state->validators_added) {
        co_await merge_not_modified(ctx, *state, entity);
        co_return;
      }
      if (entity.status >= 500 && serve_stale_on_error(*state, entity)) {
        co_return;
      }
    }
    const CacheControl cc = cache_control_of(entity.headers.fields());
    if (request.method == Method::head || state->primary.empty()) {
      finish(*state, entity, "");
      co_return;
    }
    if (const char* why = not_storable(request, state->request_cc, entity, cc, config_.policy)) {
      finish(*state, entity, fmt::format("; detail=\"{}\"", why));
      co_return;
    }
    if (!entity.etag.empty() || entity.last_modified ||
        freshness_lifetime(entity, cc, seconds_now(), config_.policy) > 0) {
      co_await keep(ctx, state, entity, cc);
      co_return;
    }
    finish(*state, entity, "; detail=\"neither fresh nor revalidatable\"");
  }

 private:
  void count(Counter counter) const {
    if (SharedIndex* index = config_.tiers->coordination()) {
      index->count(counter);
    }
  }

  bool claim(RequestState& state) const {
    SharedIndex* index = config_.tiers->coordination();
    return index == nullptr ||
           index->claim_fill(state.primary_hash, config_.lock_timeout.count(), state.fill_token);
  }

  void release(RequestState& state) const {
    if (state.fill_token != 0) {
      if (SharedIndex* index = config_.tiers->coordination()) {
        index->release_fill(state.primary_hash, state.fill_token);
      }
      state.fill_token = 0;
    }
  }

  void finish(RequestState& state, Entity& entity, std::string_view detail) const {
    release(state);
    if (!state.outcome.empty()) {
      set_cache_status(entity, state.outcome + std::string(detail));
    }
  }

  // The stored response for the request: through the Vary marker to the variant when there is
  // one. Keys and variants are checked in full (a hash names a file, it does not prove a match).
  Task<std::shared_ptr<StoredEntry>> find_response(RequestContext& ctx, RequestState& state,
                                                   std::string& why_missed) const {
    std::shared_ptr<StoredEntry> first =
        co_await config_.tiers->find(state.primary_hash, config_.choice, ctx.services);
    if (first == nullptr || first->head.key() != state.primary) {
      co_return nullptr;
    }
    std::shared_ptr<StoredEntry> entry = first;
    if (first->head.vary_marker()) {
      state.marker = first;
      const std::vector<std::string> names(first->head.vary().begin(), first->head.vary().end());
      const std::string variant = variant_of(ctx.request, names);
      entry = co_await config_.tiers->find(entry_hash(state.primary, variant), config_.choice,
                                           ctx.services);
      if (entry == nullptr || entry->head.key() != state.primary ||
          entry->head.variant() != variant || entry->head.marker_id() != first->head.marker_id()) {
        why_missed = "vary-miss";
        co_return nullptr;
      }
    } else if (!entry->head.variant().empty()) {
      co_return nullptr;
    }
    if (ctx.request.headers.contains("Authorization") && !entry->head.shared_with_authorization()) {
      co_return nullptr;  // §3.5: not to be reused for a request that carries Authorization
    }
    co_return entry;
  }

  Task<std::shared_ptr<StoredEntry>> wait_for_fill(RequestContext& ctx, RequestState& state,
                                                   SharedIndex& index,
                                                   std::string& why_missed) const {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    const auto deadline = std::chrono::steady_clock::now() + config_.lock_timeout;
    while (index.fill_pending(state.primary_hash) && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(5ms);
      co_await timer.async_wait(asio::use_awaitable);
    }
    co_return co_await find_response(ctx, state, why_missed);
  }

  void add_validators(Request& request, RequestState& state) const {
    const proto::CacheEntryHead& head = state.stale->head;
    // The client's own conditionals go to the store as they are; ours only stand in for none.
    if (request.headers.contains("If-None-Match") ||
        request.headers.contains("If-Modified-Since") || request.headers.contains("Range")) {
      return;
    }
    if (head.etag().empty() && !head.has_last_modified()) {
      return;
    }
    state.original_headers = request.headers.fields();
    if (!head.etag().empty()) {
      state.if_none_match = head.etag();
      request.headers.add("If-None-Match", state.if_none_match);
    }
    if (head.has_last_modified()) {
      char date[32];
      format_http_date(static_cast<std::time_t>(head.last_modified()), date);
      state.if_modified_since = date;
      request.headers.add("If-Modified-Since", state.if_modified_since);
    }
    state.validators_added = true;
  }

  static void restore_headers(Request& request, RequestState& state) {
    if (state.validators_added) {
      request.headers.clear();
      for (const auto& [name, value] : state.original_headers) {
        request.headers.add(name, value);
      }
    }
  }

  // §4.3.4: the 304's fields replace the stored ones of the same name; the stored body stays.
  Task<void> merge_not_modified(RequestContext& ctx, RequestState& state, Entity& entity) const {
    const proto::CacheEntryHead& old_head = state.stale->head;
    Entity merged;
    fill_from(state.stale, seconds_now(), merged);
    merged.headers.remove("Age");
    for (const auto& [name, value] : entity.headers.fields()) {
      if (!is_kept_from_stored(name) && !is_unstored_field(name)) {
        merged.headers.remove(name);
      }
    }
    for (const auto& [name, value] : entity.headers.fields()) {
      if (!is_kept_from_stored(name) && !is_unstored_field(name)) {
        merged.headers.add(name, value);
      }
    }
    if (!entity.etag.empty()) {
      merged.etag = entity.etag;
    }
    if (entity.last_modified) {
      merged.last_modified = entity.last_modified;
    }
    const CacheControl cc = cache_control_of(merged.headers.fields());
    proto::CacheEntryHead head =
        head_of(merged, state, cc, config_.policy, old_head.variant(), old_head.marker_id(),
                old_head.shared_with_authorization());
    std::unique_ptr<EntryWriter> writer =
        config_.tiers->begin(state.stale->hash, config_.max_entry_size, head, config_.choice);
    std::shared_ptr<StoredEntry> updated;
    if (writer != nullptr) {
      Brigade body;
      state.stale->append_body(body);
      if (writer->append(body)) {
        updated = writer->commit();
      }
    }
    if (updated != nullptr) {
      co_await config_.tiers->propagate(updated, config_.choice, ctx.services);
      fill_from(updated, seconds_now(), entity);
    } else {
      fill_from(state.stale, seconds_now(), entity);
    }
    release(state);
    set_cache_status(entity, "fwd=stale; fwd-status=304");
  }

  // RFC 5861 §4: a stored response stands in for an error while stale-if-error allows.
  bool serve_stale_on_error(RequestState& state, Entity& entity) const {
    const std::time_t now = seconds_now();
    const StoredTimes times = times_of(state.stale->head);
    const std::int64_t staleness = times.current_age(now) - times.freshness_lifetime;
    const std::int64_t allowed =
        std::max(state.stale->head.stale_if_error(), state.request_cc.stale_if_error.value_or(0));
    if (state.stale->head.must_revalidate() || allowed <= 0 || staleness > allowed) {
      return false;
    }
    const int error_status = entity.status;
    fill_from(state.stale, now, entity);
    release(state);
    set_cache_status(
        entity, fmt::format("hit; fwd=stale; fwd-status={}; detail=stale-if-error", error_status));
    return true;
  }

  // Stores the response (a Vary marker first when it varies), teeing a streamed body.
  Task<void> keep(RequestContext& ctx, std::shared_ptr<RequestState> state, Entity& entity,
                  const CacheControl& cc) const {
    const bool authorization = ctx.request.headers.contains("Authorization") &&
                               (cc.is_public || cc.s_maxage || cc.must_revalidate);
    const std::vector<std::string> names = vary_names(entity);
    std::string variant;
    std::uint64_t marker_id = 0;
    if (!names.empty()) {
      variant = variant_of(ctx.request, names);
      if (state->marker != nullptr &&
          std::equal(names.begin(), names.end(), state->marker->head.vary().begin(),
                     state->marker->head.vary().end())) {
        marker_id = state->marker->head.marker_id();
      } else {
        marker_id = std::random_device{}() | (std::uint64_t{std::random_device{}()} << 32) | 1;
        proto::CacheEntryHead marker;
        marker.set_key(state->primary);
        marker.set_vary_marker(true);
        marker.set_marker_id(marker_id);
        for (const std::string& name : names) {
          marker.add_vary(name);
        }
        // The marker lives as long as any variant could.
        marker.set_response_time(seconds_now());
        marker.set_freshness_lifetime(86400);
        if (std::unique_ptr<EntryWriter> writer = config_.tiers->begin(
                state->primary_hash, config_.max_entry_size, marker, config_.choice)) {
          if (std::shared_ptr<StoredEntry> sealed = writer->commit()) {
            co_await config_.tiers->propagate(sealed, config_.choice, ctx.services);
          }
        }
      }
    }
    const std::uint64_t hash = entry_hash(state->primary, variant);
    proto::CacheEntryHead head =
        head_of(entity, *state, cc, config_.policy, std::move(variant), marker_id, authorization);
    std::unique_ptr<EntryWriter> writer =
        config_.tiers->begin(hash, config_.max_entry_size, std::move(head), config_.choice);
    if (writer == nullptr) {
      finish(*state, entity, "; detail=\"no tier could take it\"");
      co_return;
    }
    set_cache_status(entity,
                     state->outcome.empty() ? "fwd=miss; stored" : state->outcome + "; stored");
    state->outcome.clear();
    if (entity.stream == nullptr) {
      std::shared_ptr<StoredEntry> sealed =
          writer->append(entity.body) ? writer->commit() : nullptr;
      if (sealed != nullptr) {
        co_await config_.tiers->propagate(sealed, config_.choice, ctx.services);
      }
      release(*state);
      co_return;
    }
    // A streamed body is kept as it passes; the ready part first.
    if (!entity.body.empty() && !writer->append(entity.body)) {
      release(*state);
      co_return;
    }
    const Provider* self = this;
    Services* services = &ctx.services;
    entity.stream = std::make_unique<TeeStream>(
        std::move(entity.stream), std::move(writer),
        [self, state, services](std::shared_ptr<StoredEntry> sealed) -> Task<void> {
          co_await self->config_.tiers->propagate(std::move(sealed), self->config_.choice,
                                                  *services);
          self->release(*state);
        },
        [self, state] { self->release(*state); });
  }

  // §4.4: a successful unsafe method makes the target's entries (and Location's and
  // Content-Location's, on this host) invalid, in every tier and whatever the point.
  Task<void> invalidate(RequestContext& ctx, const Entity& entity) const {
    if (entity.status >= 400 || config_.tiers == nullptr) {
      co_return;
    }
    std::vector<std::string> keys;
    keys.push_back(primary_key(ctx, CachePoint::store, config_.key));
    keys.push_back(url_key(ctx.request, config_.key));
    Request other = ctx.request;
    std::vector<std::string> other_paths;
    if (!ctx.request.destination.empty()) {
      other_paths.push_back(ctx.request.destination);  // a rename: the new name changed too
    }
    for (const std::string_view field : {"Location", "Content-Location"}) {
      std::string_view target = entity.headers.get(field);
      const std::string same_host = fmt::format("://{}", ctx.request.host);
      if (const std::size_t at = target.find(same_host); at != std::string_view::npos) {
        target.remove_prefix(at + same_host.size());
        target = target.substr(std::min(target.size(), target.find_first_of("/")));
      }
      if (target.starts_with("/")) {
        other_paths.emplace_back(target.substr(0, target.find('?')));
      }
    }
    for (const std::string& path : other_paths) {
      other.path = path;
      other.query = {};
      RequestContext other_ctx{other, ctx.virtual_host, ctx.location, ctx.services, ctx.generation};
      keys.push_back(primary_key(other_ctx, CachePoint::store, config_.key));
      keys.push_back(url_key(other, config_.key));
    }
    for (const std::string& key : keys) {
      co_await config_.tiers->remove(entry_hash(key, ""), config_.choice, ctx.services);
    }
  }

  ProviderConfig config_;
};

}  // namespace

std::unique_ptr<CacheProvider> make_provider(ProviderConfig config) {
  return std::make_unique<Provider>(std::move(config));
}

}  // namespace collage::cache
