#!/usr/bin/env bash
# Installs what Ultro needs on a fresh Debian/Ubuntu machine:
#   - system tools: avr-gcc + avr-libc (firmware for the Uno) when missing;
#   - npm dependencies (npm ci), which also builds dist/.
# Re-runnable: it skips what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v avr-gcc >/dev/null 2>&1 || missing+=(gcc-avr binutils-avr)
[ -f /usr/lib/avr/include/avr/io.h ] || missing+=(avr-libc)
# Extra tools the test suite uses when present (the tests skip what is absent):
cross=()
if [ "${ULTRO_SETUP_TEST_TOOLS:-0}" = "1" ]; then
  command -v socat >/dev/null 2>&1 || missing+=(socat)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  # 32-bit targets: the Cortex-M4 build run under QEMU, and the Xtensa compile check
  command -v arm-none-eabi-gcc >/dev/null 2>&1 || cross+=(gcc-arm-none-eabi libnewlib-arm-none-eabi)
  command -v qemu-system-arm >/dev/null 2>&1 || cross+=(qemu-system-arm)
  command -v xtensa-lx106-elf-gcc >/dev/null 2>&1 || cross+=(gcc-xtensa-lx106)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: apt-get is not available; install these yourself: ${missing[*]}" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "setup: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#cross[@]} -gt 0 ]; then
  echo "setup: installing Debian packages (cross toolchains for the tests): ${cross[*]}"
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  [ ${#missing[@]} -gt 0 ] || $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${cross[@]}" >/dev/null
fi

# --system-only: only the Debian packages (CI runs npm ci itself).
if [ "${1:-}" != "--system-only" ]; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci
  fi
fi
