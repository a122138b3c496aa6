// The compression filter: gzip or brotli, whichever the client prefers by Accept-Encoding
// q-values (brotli on a tie), for the media types a location names, streaming in bounded memory.

#include <algorithm>

#include "collage/middle_end.h"
#include "collage/registry.h"
#include "encoder.h"

namespace collage::compress {
namespace {

struct CompressSettings {
  std::vector<std::string> types;
  std::uint64_t min_length = 256;
  int gzip_level = 6;
  int brotli_level = 4;
};

const Directive kDirectives[] = {
    {.name = "CompressTypes",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "text/html text/css text/plain text/xml text/javascript "
                      "application/javascript application/json application/xml image/svg+xml",
     .help = "Media types the compress filter codes (gzip or br by Accept-Encoding); others, "
             "and images and archives that are compressed already, go out as they are.",
     .field = bind<&CompressSettings::types>()},
    {.name = "CompressMinLength",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "256",
     .help = "Bodies of a known length below this are sent uncompressed (the coding would cost "
             "more than it saves); bodies of unknown length are always compressed.",
     .field = bind<&CompressSettings::min_length>()},
    {.name = "CompressGzipLevel",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "6",
     .help = "zlib level for gzip, 1 (fast) to 9 (small).",
     .min = 1,
     .max = 9,
     .field = bind<&CompressSettings::gzip_level>()},
    {.name = "CompressBrotliLevel",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "4",
     .help = "Brotli quality, 0 (fast) to 11 (small); 4 suits responses made per request.",
     .min = 0,
     .max = 11,
     .field = bind<&CompressSettings::brotli_level>()},
};

bool accepts_some_coding(std::string_view accept_encoding) {
  return header_allows_token(accept_encoding, "br") || header_allows_token(accept_encoding, "gzip");
}

// "text/html; charset=utf-8" → "text/html"
std::string_view bare_type(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  return type;
}

bool has_no_transform(std::string_view cache_control) {
  while (!cache_control.empty()) {
    const std::size_t comma = cache_control.find(',');
    if (iequals(trim_ows(cache_control.substr(0, comma)), "no-transform")) {
      return true;
    }
    cache_control =
        comma == std::string_view::npos ? std::string_view() : cache_control.substr(comma + 1);
  }
  return false;
}

// "\"abc\"" → "\"abc-gzip\"": a coded variant is a different representation (RFC 9110 §8.8.3).
std::string variant_etag(std::string_view etag, Coding coding) {
  if (etag.size() < 2 || etag.back() != '"') {
    return std::string(etag);
  }
  std::string out(etag.substr(0, etag.size() - 1));
  out += '-';
  out += coding_name(coding);
  out += '"';
  return out;
}

class CompressInstance final : public FilterInstance {
 public:
  explicit CompressInstance(std::unique_ptr<Encoder> encoder) : encoder_(std::move(encoder)) {}

  Task<FilterStatus> process(Brigade& in, bool last, Brigade& out) override {
    std::string input;
    if (!in.copy_to(input)) {
      co_return FilterStatus::failed;  // a file part could not be read
    }
    std::string coded;
    if (!encoder_->encode(input, last, coded)) {
      co_return FilterStatus::failed;
    }
    if (!coded.empty()) {
      out.append_owned(std::move(coded));
    }
    co_return FilterStatus::pass;
  }

 private:
  std::unique_ptr<Encoder> encoder_;
};

class CompressFilter final : public Filter {
 public:
  explicit CompressFilter(CompressSettings settings) : settings_(std::move(settings)) {}

  FilterStatus start(RequestContext& ctx, Entity& entity,
                     std::unique_ptr<FilterInstance>& instance) const override {
    const Request& request = ctx.request;
    const std::string_view type = bare_type(entity.content_type);
    if (std::none_of(settings_.types.begin(), settings_.types.end(),
                     [&](const std::string& t) { return iequals(t, type); }) ||
        entity.headers.contains("Content-Encoding") ||
        has_no_transform(entity.headers.get("Cache-Control")) ||
        (entity.length && *entity.length < settings_.min_length) ||
        // A range of a known-length body is cut from the identity form, which clients resume.
        (entity.length && request.headers.contains("Range"))) {
      return FilterStatus::pass;
    }
    const std::string_view accept = request.headers.get("Accept-Encoding");
    const double br = token_weight(accept, "br");
    const double gzip = token_weight(accept, "gzip");
    const Coding coding = br > 0 && br >= gzip ? Coding::br : Coding::gzip;
    std::unique_ptr<Encoder> encoder =
        make_encoder(coding, coding == Coding::br ? settings_.brotli_level : settings_.gzip_level);
    if (encoder == nullptr) {
      return FilterStatus::pass;  // out of memory for the encoder: identity is still an answer
    }
    entity.headers.set("Content-Encoding", std::string(coding_name(coding)));
    if (!entity.etag.empty()) {
      entity.etag = variant_etag(entity.etag, coding);
    }
    entity.length.reset();
    instance = std::make_unique<CompressInstance>(std::move(encoder));
    return FilterStatus::pass;
  }

 private:
  CompressSettings settings_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"compress", ModuleKind::filter, "gzip and brotli content codings"},
                      kDirectives);
  FilterRegistration filter;
  filter.name = "compress";
  filter.capabilities.stage = FilterStage::encoding;
  filter.capabilities.methods = MethodSet{Method::get, Method::head, Method::post};
  filter.capabilities.statuses = {200};
  // The text-like types a location may name in CompressTypes; each response of one of them
  // varies by Accept-Encoding, compressed or not.
  filter.capabilities.content_types = {"text/*",
                                       "application/javascript",
                                       "application/json",
                                       "application/xml",
                                       "application/xhtml+xml",
                                       "image/svg+xml",
                                       "application/rss+xml",
                                       "application/atom+xml",
                                       "application/wasm"};
  filter.capabilities.protocols = {"http1", "h2"};
  filter.capabilities.request_predicate = {"Accept-Encoding", accepts_some_coding};
  filter.capabilities.vary = {"Accept-Encoding"};
  filter.capabilities.outermost_only = true;
  filter.factory = [](const Scope& scope, ConfigErrors&) {
    return std::make_unique<CompressFilter>(scope.read<CompressSettings>(kDirectives));
  };
  registry.add_filter(std::move(filter));
}

}  // namespace collage::compress
