// A tiny Gopher load generator for bench/gopher_bench.py: N threads, each opening a connection,
// sending one selector, reading to the end, for a fixed time. Prints requests, bytes, errors.
// Build: g++ -O2 -std=c++20 -pthread gopher_load.cpp -o gopher_load

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: gopher_load PORT SELECTOR THREADS SECONDS\n");
    return 2;
  }
  const int port = std::atoi(argv[1]);
  const std::string request = std::string(argv[2]) + "\r\n";
  const int threads = std::atoi(argv[3]);
  const auto duration = std::chrono::seconds(std::atoi(argv[4]));
  std::atomic<long> requests{0};
  std::atomic<long> bytes{0};
  std::atomic<long> errors{0};
  const auto end = std::chrono::steady_clock::now() + duration;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      char buffer[65536];
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(static_cast<uint16_t>(port));
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      while (std::chrono::steady_clock::now() < end) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
            ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
                static_cast<ssize_t>(request.size())) {
          ++errors;
          ::close(fd);
          continue;
        }
        long got = 0;
        ssize_t n;
        while ((n = ::recv(fd, buffer, sizeof buffer, 0)) > 0) {
          got += n;
        }
        ::close(fd);
        if (n < 0 || got == 0) {
          ++errors;
          continue;
        }
        ++requests;
        bytes += got;
      }
    });
  }
  for (auto& t : pool) {
    t.join();
  }
  std::printf("%ld %ld %ld\n", requests.load(), bytes.load(), errors.load());
  return 0;
}
