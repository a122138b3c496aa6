// Google Benchmark of the HTTP/1.1 request parser on typical browser requests: bytes per second
// through find_head_end + parse_request_head, the work done per request before routing.

#include <benchmark/benchmark.h>

#include <string>

#include "http1_parser.h"

namespace {

const std::string kBrowserRequest =
    "GET /assets/app.3f9c2.js?v=12 HTTP/1.1\r\n"
    "Host: www.example.org\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US,en;q=0.5\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: https://www.example.org/articles/2026/11/collage\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=6f1c2a9b0d4e4f7a8b9c; theme=dark; consent=1\r\n"
    "Sec-Fetch-Dest: script\r\n"
    "Sec-Fetch-Mode: no-cors\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "If-None-Match: \"5f-1a2b3c\"\r\n"
    "\r\n";

const std::string kMinimalRequest = "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

void parse(benchmark::State& state, const std::string& request) {
  collage::http1::ParseLimits limits;
  collage::http1::RequestHead head;
  for (auto _ : state) {
    const std::size_t end = collage::http1::find_head_end(request);
    const auto error =
        collage::http1::parse_request_head(std::string_view(request).substr(0, end), limits, head);
    benchmark::DoNotOptimize(error);
    benchmark::DoNotOptimize(head.headers.size());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * request.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}

void BM_BrowserRequest(benchmark::State& state) {
  parse(state, kBrowserRequest);
}
void BM_MinimalRequest(benchmark::State& state) {
  parse(state, kMinimalRequest);
}

BENCHMARK(BM_BrowserRequest);
BENCHMARK(BM_MinimalRequest);

}  // namespace

BENCHMARK_MAIN();
