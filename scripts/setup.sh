#!/usr/bin/env bash
# Installs what is missing (Debian 12, as root; idempotent and quick when all is present), then
# configures and builds Collage with CMake and Ninja.
#   scripts/setup.sh             build into build/
#   scripts/setup.sh --sanitize  build into build-sanitize/ with ASan + UBSan
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  clang-19 libstdc++-12-dev libclang-rt-19-dev libfuzzer-19-dev cmake ninja-build ccache pkg-config git
  libasio-dev libnghttp2-dev libssl-dev libtinyxml2-dev libprotobuf-dev protobuf-compiler libmemcached-dev memcached libsqlite3-dev sqlite3
  libgtest-dev libfmt-dev libbenchmark-dev zlib1g-dev libbrotli-dev libpcre2-dev
  media-types curl python3 python3-h2 lynx lftp openssl nghttp2-client iproute2 brotli
  php-fpm fcgiwrap libxml2-utils python3-jsonschema python3-prometheus-client
  libsystemd-dev systemd
  chromium fonts-dejavu-core python3-pil
)

missing=()
for p in "${packages[@]}"; do
  if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" != "install ok installed" ]; then
    missing+=("$p")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (from Debian's archive; the first time this takes a few minutes)"
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: run as root (or install these packages yourself): ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# A self-signed certificate for the example's HTTPS and FTPS listeners; made here, never committed.
if [ ! -f examples/tls/key.pem ]; then
  mkdir -p examples/tls
  openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout examples/tls/key.pem -out examples/tls/cert.pem 2>/dev/null
  chmod 600 examples/tls/key.pem
fi

# The example configuration's log and pid directory (LOGDIR) and its FTP upload area (UPLOADDIR),
# so `collage -t` passes at once and uploads stay out of the tracked tree.
mkdir -p run/uploads

build_dir=build
# Debian's clang 19 with libstdc++: GCC 12 miscompiles some coroutine code (docs/developing.md).
compiler=clang++-19
cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=$compiler)
if [ "${1:-}" = "--sanitize" ]; then
  build_dir=build-sanitize
  cmake_args+=(-DCOLLAGE_SANITIZE=ON -DCOLLAGE_FUZZ=ON)
fi
# A build tree configured with another compiler is configured afresh.
if [ -f "$build_dir/CMakeCache.txt" ] &&
  ! grep -q "^CMAKE_CXX_COMPILER:.*$compiler\$" "$build_dir/CMakeCache.txt"; then
  echo "setup: $build_dir was configured with another compiler; configuring it again"
  rm -rf "$build_dir"
fi
if [ ! -f "$build_dir/build.ninja" ]; then
  cmake -S . -B "$build_dir" "${cmake_args[@]}" >/dev/null
fi
ninja -C "$build_dir" -j2
