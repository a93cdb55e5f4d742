#!/usr/bin/env bash
# Install the Debian 12 packages the build, the tests and the benchmarks need,
# only those that are missing. Runs as root (or through sudo when present).
set -euo pipefail
pkgs=(
  build-essential meson ninja-build pkg-config git
  clang clang-format libclang-rt-14-dev llvm      # libFuzzer, sanitizers, format check
  libuv1-dev                                      # event loop of shenggu serve
  libsqlite3-dev                                  # embedded storage backend (src/store)
  libpq-dev                                       # PostgreSQL storage backend, the scale-out one (src/store/store_pg.c)
  libjansson-dev                                  # provisioning documents (src/prov)
  libssl-dev                                      # MD5 / SHA-256 digest HA1 (OpenSSL EVP)
  libargon2-dev                                   # argon2id password hashes for API logins (src/acct)
  libwebsockets-dev libwebsockets-evlib-uv zlib1g-dev # HTTP and WebSocket server on our libuv loop, gzip (src/http)
  libcurl4-openssl-dev                            # HTTP client of webhook deliveries (src/cmd/serve_hook.c); the OpenSSL flavour, as the rest
  libspeexdsp-dev                                 # resampler for prompt audio (src/media)
  libespeak-ng-dev espeak-ng-data                 # text-to-speech for IVR prompts (src/media/tts.c)
  tzdata                                          # IANA zone files: tenants' business hours (src/base/tz.c)
  libosip2-dev                                    # benchmark peer only
  sip-tester python3                              # system tests
  sqlite3                                         # system tests inspect the stored rows
  curl nodejs                                     # API system tests: HTTP client, WebSocket client (test_api.sh)
  nginx-light wrk                                 # benchmark peer and load generator only (bench_api.sh)
  postgresql                                      # test_store_pg.sh starts a throwaway server (initdb, postgres, psql)
  baresip-core                                    # system test: a real softphone registers (test_baresip.sh, test_baresip_calls.sh; the
                                                  # `baresip` metapackage adds only GUI/video plugins)
  sipvicious                                      # system test: svwar/svcrack scans are defeated (test_sipvicious.sh)
  rtpengine-daemon                                # benchmark peer only (bench_media.sh; the `rtpengine` metapackage adds the DKMS kernel module)
)
miss=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || miss+=("$p")
done
[ ${#miss[@]} -eq 0 ] && exit 0
echo "deps: installing ${miss[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -q --no-install-recommends "${miss[@]}"
