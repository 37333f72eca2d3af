#!/usr/bin/env bash
# Installs the Debian 12 packages elang builds and tests with.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
PACKAGES=(
    build-essential pkg-config      # gcc 12, make
    libdnnl-dev                     # oneDNN: matrix products in F32, BF16, INT8, on OpenMP
    libutf8proc-dev                 # Unicode for the tokenizers
    libjansson-dev                  # JSON: config.json, tokenizer files, JSONL
    libzip-dev                      # pytorch_model.bin archives
    libcmocka-dev                   # tests
    libsentencepiece-dev g++        # SentencePiece (T5, Marian) behind a C++ shim
    libmicrohttpd-dev               # elang serve: the HTTP server
    libcurl4-openssl-dev            # elang serve: calls to a remote Super
    curl                            # tests: the server's endpoints called as a user calls them
)
if [ "${ELANG_FUZZ:-0}" = 1 ]; then PACKAGES+=(clang); fi
missing=()
for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

# The openai npm package, for the test that calls `elang serve` with OpenAI's
# own client (tests/openai-client, pinned by its package-lock.json). Only
# where Node.js and npm already are: the test is skipped, and says so, where
# they are not; a failed install is reported, not fatal.
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
    cd "$(dirname "$0")/../tests/openai-client"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
        echo "install-deps: npm ci in tests/openai-client failed; the openai client test will be skipped" >&2
fi
