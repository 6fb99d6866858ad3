#!/usr/bin/env bash
# Installs, only when missing, the pinned tools the tests, lint and the benchmark
# need: MinIO, the reference registry, crane, oras, regctl, the OCI conformance
# suite, staticcheck (Go module proxy) and skopeo, containerd, PostgreSQL, docker-compose
# (Debian packages).
# Binaries go to $BERTH_TOOLS (default ~/.cache/berth/tools) so a kept machine
# reuses them; MinIO alone takes ~10 minutes to build cold.
set -euo pipefail

TOOLS=${BERTH_TOOLS:-$HOME/.cache/berth/tools}
mkdir -p "$TOOLS/bin"
export GOBIN="$TOOLS/bin"
export GOFLAGS=-buildvcs=false

# name|package@version
GO_TOOLS=(
  "minio|github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c"
  "registry|github.com/distribution/distribution/v3/cmd/registry@v3.1.2"
  "crane|github.com/google/go-containerregistry/cmd/crane@v0.22.1"
  "oras|oras.land/oras/cmd/oras@v1.3.6"
  "regctl|github.com/regclient/regclient/cmd/regctl@v0.11.7"
  "conformance|github.com/opencontainers/distribution-spec/conformance@v0.0.0-20260831232431-97274622c111"
  "staticcheck|honnef.co/go/tools/cmd/staticcheck@v0.8.2"
)

log() { printf '[install-tools] %s\n' "$*" >&2; }

install_apt() {
  local missing=()
  command -v skopeo >/dev/null || missing+=(skopeo)
  command -v containerd >/dev/null && command -v ctr >/dev/null || missing+=(containerd)
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
  command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1 || missing+=(docker-compose)
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_go() {
  local name=$1 pkg=$2 stamp="$TOOLS/bin/.$1.version"
  if [ -x "$TOOLS/bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then return 0; fi
  log "go install $pkg"
  local t0=$SECONDS
  go install "$pkg"
  echo "$pkg" >"$stamp"
  log "$name built in $((SECONDS - t0)) s"
}

case "${1:-all}" in
  apt) install_apt ;;
  go)
    for e in "${GO_TOOLS[@]}"; do install_go "${e%%|*}" "${e#*|}"; done ;;
  all)
    install_apt
    for e in "${GO_TOOLS[@]}"; do install_go "${e%%|*}" "${e#*|}"; done ;;
  *) echo "usage: $0 [all|apt|go]" >&2; exit 2 ;;
esac
log "tools ready in $TOOLS/bin"
