// Shared metrics: one series per name in every process, counters that outlive a child, gauges
// that do not, and the exposition text Prometheus reads.

#include "collage/metrics.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace collage {
namespace {

const MetricFamily kHits{"test_hits_total", "Hits.", MetricType::counter};
const MetricFamily kOpen{"test_open", "Open now.", MetricType::gauge};
const MetricFamily kTime{"test_seconds", "Durations.", MetricType::histogram};

TEST(Metrics, OneSeriesPerNameAcrossProcesses) {
  auto metrics = Metrics::create(2);
  ASSERT_TRUE(metrics);
  const int a = metrics->series(kHits, R"(kind="a")");
  ASSERT_GE(a, 0);
  EXPECT_EQ(metrics->series(kHits, R"(kind="a")"), a);
  const int b = metrics->series(kHits, R"(kind="b")");
  EXPECT_NE(b, a);
  const pid_t child = ::fork();
  if (child == 0) {
    // The child finds the same series by name and counts into its own row.
    const bool same = metrics->series(kHits, R"(kind="a")") == a;
    metrics->row(1)[a].fetch_add(3);
    ::_exit(same ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  metrics->row(0)[a].fetch_add(2);
  EXPECT_EQ(metrics->total(a), 5u);
  EXPECT_EQ(metrics->total(b), 0u);
}

TEST(Metrics, RetiringAChildKeepsCountersAndDropsGauges) {
  auto metrics = Metrics::create(2);
  ASSERT_TRUE(metrics);
  const int hits = metrics->series(kHits, "");
  const int open = metrics->series(kOpen, "");
  metrics->row(1)[hits].fetch_add(7);
  metrics->row(1)[open].fetch_add(4);
  metrics->row(0)[open].fetch_add(1);
  metrics->retire_child(1);
  EXPECT_EQ(metrics->total(hits), 7u);
  EXPECT_EQ(metrics->total(open), 1u);
  EXPECT_EQ(metrics->row(1)[hits].load(), 0u);  // the row is clean for the next child
  metrics->row(1)[hits].fetch_add(1);
  EXPECT_EQ(metrics->total(hits), 8u);
}

TEST(Metrics, RendersTheTextFormat) {
  auto metrics = Metrics::create(1);
  ASSERT_TRUE(metrics);
  metrics->row(0)[metrics->series(kHits, R"(kind="a")")].fetch_add(3);
  metrics->row(0)[metrics->series(kOpen, "")].fetch_sub(1);  // a gauge may go below zero
  const int time = metrics->series(kTime, R"(kind="a")");
  metrics->row(0)[time + 0].fetch_add(2);                        // <= 0.5 ms
  metrics->row(0)[time + kDurationBuckets.size()].fetch_add(1);  // beyond the last bound
  metrics->row(0)[time + kDurationBuckets.size() + 1].fetch_add(1'500'000);
  std::string text;
  metrics->render(text);
  EXPECT_NE(text.find("# TYPE test_hits_total counter\ntest_hits_total{kind=\"a\"} 3\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ntest_open -1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("test_seconds_bucket{kind=\"a\",le=\"0.0005\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("test_seconds_bucket{kind=\"a\",le=\"30\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("test_seconds_bucket{kind=\"a\",le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("test_seconds_sum{kind=\"a\"} 1.500000\n"), std::string::npos);
  EXPECT_NE(text.find("test_seconds_count{kind=\"a\"} 3\n"), std::string::npos);
}

TEST(Metrics, AFullTableCountsNothingAndSaysSo) {
  auto metrics = Metrics::create(1);
  ASSERT_TRUE(metrics);
  int last = 0;
  std::size_t claimed = 0;
  for (std::size_t i = 0; i < Metrics::kSeries + 10; ++i) {
    last = metrics->series(kHits, "n=\"" + std::to_string(i) + "\"");
    claimed += last >= 0 ? 1 : 0;
  }
  EXPECT_EQ(last, -1);
  EXPECT_EQ(claimed, Metrics::kSeries);
  const std::string long_labels(400, 'x');
  EXPECT_EQ(metrics->series(kOpen, long_labels), -1);
}

TEST(Metrics, HistoryTakesOneSamplePerSecond) {
  auto metrics = Metrics::create(1);
  ASSERT_TRUE(metrics);
  const MetricFamily requests{"collage_requests_total", "Requests.", MetricType::counter};
  const int http1 = metrics->series(requests, R"(protocol="http1",code="2xx")");
  const int gopher = metrics->series(requests, R"(protocol="gopher",code="2xx")");
  const std::int64_t t0 = 1'000'000'000'000;
  metrics->row(0)[http1].fetch_add(10);
  metrics->sample_history(t0);
  metrics->row(0)[http1].fetch_add(5);
  metrics->sample_history(t0 + 500);  // the same second: not taken again
  metrics->row(0)[gopher].fetch_add(2);
  metrics->sample_history(t0 + 1000);
  HistorySample samples[Metrics::kHistory];
  ASSERT_EQ(metrics->history(samples, 10), 2u);
  EXPECT_EQ(samples[0].requests[static_cast<int>(ProtocolKind::http1)], 10u);
  EXPECT_EQ(samples[1].requests[static_cast<int>(ProtocolKind::http1)], 15u);
  EXPECT_EQ(samples[1].requests[static_cast<int>(ProtocolKind::gopher)], 2u);
  EXPECT_EQ(samples[1].second - samples[0].second, 1);
}

}  // namespace
}  // namespace collage
