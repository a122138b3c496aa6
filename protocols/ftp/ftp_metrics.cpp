#include "ftp_metrics.h"

#include "collage/metrics.h"

namespace collage::ftp {
namespace {

const MetricFamily kSessions{"collage_ftp_sessions_total", "FTP control connections served.",
                             MetricType::counter};
const MetricFamily kTransfers{"collage_ftp_transfers_total",
                              "FTP file transfers by direction and result (complete, aborted).",
                              MetricType::counter};
const MetricFamily kTransferBytes{"collage_ftp_transfer_bytes_total",
                                  "Bytes of FTP file transfers by direction.", MetricType::counter};

}  // namespace

void count_session() {
  static MetricCounter sessions{kSessions, ""};
  sessions.add();
}

void count_transfer(bool outgoing, bool complete, std::uint64_t bytes) {
  static MetricCounter transfers[2][2] = {
      {{kTransfers, R"(direction="upload",result="aborted")"},
       {kTransfers, R"(direction="upload",result="complete")"}},
      {{kTransfers, R"(direction="download",result="aborted")"},
       {kTransfers, R"(direction="download",result="complete")"}}};
  static MetricCounter transfer_bytes[2] = {{kTransferBytes, R"(direction="upload")"},
                                            {kTransferBytes, R"(direction="download")"}};
  transfers[outgoing][complete].add();
  transfer_bytes[outgoing].add(static_cast<std::int64_t>(bytes));
}

}  // namespace collage::ftp
