#include "http2_metrics.h"

#include "collage/metrics.h"

namespace collage::http2 {
namespace {

const MetricFamily kStreams{"collage_http2_streams_total", "HTTP/2 request streams opened.",
                            MetricType::counter};
const MetricFamily kResets{"collage_http2_resets_total",
                           "HTTP/2 streams reset (RST_STREAM), by the side that reset them.",
                           MetricType::counter};

}  // namespace

void count_stream() {
  static MetricCounter streams{kStreams, ""};
  streams.add();
}

void count_reset(bool by_client) {
  static MetricCounter resets[2] = {{kResets, R"(by="server")"}, {kResets, R"(by="client")"}};
  resets[by_client].add();
}

}  // namespace collage::http2
