#!/usr/bin/env bash
# Quick start, command 1: set up and build, then serve the examples with examples/collage.xml
# (HTTP on 127.0.0.1:8080, Gopher on 127.0.0.1:7070). Extra arguments go to collage,
# e.g. -D HTTP_PORT=9000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# The banner names the ports collage will use: -D NAME=VALUE arguments override the environment.
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  if [ "${args[i]}" = "-D" ] && [ $((i + 1)) -lt ${#args[@]} ]; then
    case "${args[i + 1]}" in
      HTTP_PORT=* | HTTPS_PORT=* | FTP_PORT=* | GOPHER_PORT=*) export "${args[i + 1]}" ;;
    esac
  fi
done
echo "run: serving http://127.0.0.1:${HTTP_PORT:-8080}/, https://127.0.0.1:${HTTPS_PORT:-8443}/, ftp://127.0.0.1:${FTP_PORT:-2121}/ and gopher://127.0.0.1:${GOPHER_PORT:-7070}/ (Ctrl-C stops)"
exec build/mpm/collage -f examples/collage.xml "$@"
