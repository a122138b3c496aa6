#pragma once
// Directory listings in a neutral form: a store answers Method::list with one line per entry
// (content type kListingContentType); front ends format them their way (FTP's LIST, NLST, MLSD).
// Line: "type TAB size TAB mtime TAB mode TAB name LF", type 'd' (directory) or 'f' (file).

#include <cstdint>
#include <ctime>
#include <string>
#include <string_view>
#include <vector>

namespace collage {

inline constexpr std::string_view kListingContentType = "text/x-collage-listing";
// The answer to Method::list on a file rather than a directory: the same format, one entry (the
// file itself). FTP tells CWD targets and RETR sources apart by it.
inline constexpr std::string_view kFileEntryContentType = "text/x-collage-listing-file";

struct ListingEntry {
  std::string name;
  bool directory = false;
  std::uint64_t size = 0;
  std::time_t modified = 0;
  unsigned mode = 0;  // permission bits (0755 …)
};

void append_listing_entry(const ListingEntry& entry, std::string& out);
std::vector<ListingEntry> parse_listing(std::string_view text);

}  // namespace collage
