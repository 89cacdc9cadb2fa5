#!/usr/bin/env bash
# Builds Kiln's container image, the Dockerfile's `runtime` stage, with podman, from the prebuilt
# binary and without Docker Hub (tests/deploy/container.test.mjs runs it, then starts the image):
#
#   1. a Debian minbase root filesystem made by debootstrap from the mirror apt uses here, trimmed
#      as Docker's slim images are, cached as target/deploy-rootfs.tar, imported as the local image
#      localhost/kiln-deploy-base:<suite>;
#   2. `podman build --target runtime` with two named build contexts: the Dockerfile's `FROM debian:…`
#      is that local image, and its `build` stage is a folder holding out/kiln (the binary with
#      its debug info stripped, as the build stage makes it), so no Rust image and no cargo;
#   3. the Dockerfile's `RUN apt-get install ca-certificates` runs as written: the build container
#      reaches the same Debian mirror, so the root filesystem is not given ca-certificates
#      beforehand and the apt line is tested as real builders run it (podman's layer cache keeps
#      the result: later runs need no network; a build that cannot reach the mirror skips).
#
#   tests/deploy/build-image.sh           builds localhost/kiln:test (KILN_IMAGE to name it otherwise)
#   KILN_BIN=/path/to/kiln                the binary to put in the image (default target/release/kiln)
#   KILN_DEBIAN_MIRROR=URL                the mirror (default: apt's, from /etc/apt/sources.list*)
#
# Progress goes to stderr; on success the last line on stdout is JSON: {image, podman (global
# flags), run (flags `podman run` needs here), seconds, size}. Exit status 77: this machine cannot
# build or run containers, and stderr's last line says why ("SKIP: …").
#
# Needs root (debootstrap), and the Debian packages podman, debootstrap and runc (.ci/run).
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"

skip() { echo "SKIP: $*" >&2; exit 77; }
log() { echo "build-image: $*" >&2; }
now() { date +%s.%N; }
T0=$(now)

BIN=${KILN_BIN:-$REPO/target/release/kiln}
[[ -x $BIN ]] || { echo "build-image: no binary at $BIN (cargo build --release -p kiln, or KILN_BIN)" >&2; exit 1; }
IMAGE=${KILN_IMAGE:-localhost/kiln:test}
STATE=$REPO/target/deploy
ROOTFS_TAR=$REPO/target/deploy-rootfs.tar
mkdir -p "$STATE"

command -v podman >/dev/null || skip "podman is not installed (Debian package podman)"

# The runtime stage's base, exactly as the Dockerfile names it, and its Debian suite.
BASE_REF=$(sed -n 's/^FROM[[:space:]]\{1,\}\([^[:space:]]\{1,\}\)[[:space:]]\{1,\}AS[[:space:]]\{1,\}runtime[[:space:]]*$/\1/Ip' Dockerfile)
[[ -n $BASE_REF ]] || { echo "build-image: no 'FROM … AS runtime' line in Dockerfile" >&2; exit 1; }
tag=${BASE_REF#*:}; tag=${tag%%@*}
SUITE=${tag%%-*}
LOCAL_BASE=localhost/kiln-deploy-base:$SUITE

# The mirror apt uses here (deb822 .sources or one-line lists), not the security archive.
mirror() {
  if [[ -n ${KILN_DEBIAN_MIRROR:-} ]]; then echo "$KILN_DEBIAN_MIRROR"; return; fi
  local m
  m=$( { sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | tr ' ' '\n'
         sed -n 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]\{1,\}\)\{0,1\}\([^[:space:]]\{1,\}\).*/\2/p' \
           /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null
       } | grep -E '^https?://[^ ]*/debian/?$' | head -n 1 || true)
  echo "${m:-http://deb.debian.org/debian}"
}

# podman's flags for this machine: without systemd as init, cgroupfs and a file for events.
PODMAN=(podman)
if [[ ! -d /run/systemd/system ]]; then
  PODMAN+=(--cgroup-manager cgroupfs --events-backend file)
fi

# ---- 1. the root filesystem and the base image --------------------------------------------------
T1=$(now)
if [[ ! -s $ROOTFS_TAR ]]; then
  command -v debootstrap >/dev/null || skip "debootstrap is not installed (Debian package debootstrap) and $ROOTFS_TAR is not cached"
  [[ $(id -u) == 0 ]] || skip "debootstrap needs root, and $ROOTFS_TAR is not cached"
  MIRROR=$(mirror)
  log "debootstrap --variant=minbase $SUITE from $MIRROR (once; cached as $ROOTFS_TAR)"
  work=$(mktemp -d "$REPO/target/deploy-rootfs.XXXXXX")
  cleanup_work() {
    # debootstrap mounts /proc and /sys inside the tree while it works: unmount before removing
    findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "$work"
  }
  trap cleanup_work EXIT
  if ! debootstrap --variant=minbase "$SUITE" "$work/root" "$MIRROR" >"$STATE/debootstrap.log" 2>&1; then
    tail -n 5 "$STATE/debootstrap.log" >&2
    skip "debootstrap $SUITE from $MIRROR failed (log: $STATE/debootstrap.log): $(tail -n 1 "$STATE/debootstrap.log")"
  fi
  root=$work/root
  # As Docker's debian:*-slim (debuerreotype --slimify): no docs, man pages or translations, and
  # apt keeps no caches in the image.
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$root/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete 2>/dev/null || true
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete 2>/dev/null || true
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda}/* "$root"/var/cache/apt/archives/*.deb \
    "$root"/var/cache/apt/*.bin "$root"/var/lib/apt/lists/*
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} + 2>/dev/null || true
  tar --numeric-owner -C "$root" -cf "$ROOTFS_TAR.tmp" .
  mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  cleanup_work
  trap - EXIT
fi
T2=$(now)

# Imported once per tarball (the label records which): its image id stays the same, so podman's
# layer cache (the apt-get step included) holds across runs.
stamp=$(stat -c '%s-%Y' "$ROOTFS_TAR")
have=$("${PODMAN[@]}" image inspect --format '{{index .Config.Labels "kiln.deploy.rootfs"}}' "$LOCAL_BASE" 2>/dev/null || true)
if [[ $have != "$stamp" ]]; then
  log "importing $ROOTFS_TAR as $LOCAL_BASE"
  "${PODMAN[@]}" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' \
    --change "LABEL kiln.deploy.rootfs=$stamp" \
    "$ROOTFS_TAR" "$LOCAL_BASE" >&2
fi
T3=$(now)

# ---- which OCI runtime and limits run a container here ------------------------------------------
# crun refuses cgroups v1 with a v2 hierarchy beside it ("hybrid"), runc does not; podman raises the
# file and process limits of a container to its maximum, which a machine without CAP_SYS_RESOURCE
# refuses ("error setting rlimit"): then the container gets this shell's limits.
runtimes=("")
for r in runc crun; do command -v "$r" >/dev/null && runtimes+=("$r"); done
nofile=$(ulimit -Hn); [[ $nofile == unlimited || $nofile -gt 65536 ]] && nofile=65536
limits_sets=("" "--ulimit nofile=$nofile:$nofile --ulimit nproc=4096:4096")
chosen=
last_err=
for r in "${runtimes[@]}"; do
  for l in "${limits_sets[@]}"; do
    flags=(); [[ -n $r ]] && flags+=(--runtime "$r")
    # shellcheck disable=SC2206 # split on purpose
    run_flags=($l)
    if out=$("${PODMAN[@]}" "${flags[@]}" run --rm --pull=never --network none "${run_flags[@]}" "$LOCAL_BASE" true 2>&1); then
      chosen=1
      break 2
    fi
    last_err=$(grep -v 'level=' <<<"$out" | tail -n 1)
    [[ -n $last_err ]] || last_err=$(tail -n 1 <<<"$out")
  done
done
[[ -n $chosen ]] || skip "podman cannot run a container here (tried runtimes: ${runtimes[*]:-default} and host limits): $last_err"
PODMAN+=("${flags[@]}")
log "podman: ${PODMAN[*]:1} ${run_flags[*]}"
T4=$(now)

# ---- 2. the image ------------------------------------------------------------------------------
# The binary as the build stage leaves it (debug info stripped), refreshed when the binary changes.
CTX=$STATE/context
mkdir -p "$CTX/out"
if [[ ! -x $CTX/out/kiln || $BIN -nt $CTX/out/kiln ]]; then
  if command -v objcopy >/dev/null; then
    objcopy --strip-debug "$BIN" "$CTX/out/kiln.tmp"
  else
    cp "$BIN" "$CTX/out/kiln.tmp"
  fi
  touch -r "$BIN" "$CTX/out/kiln.tmp"
  mv "$CTX/out/kiln.tmp" "$CTX/out/kiln"
fi
version=$("$BIN" --version | awk '{print $2}')
revision=$(git -C "$REPO" rev-parse HEAD 2>/dev/null || echo unknown)
old_id=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE" 2>/dev/null || true)
log "podman build --target runtime -t $IMAGE"
if ! "${PODMAN[@]}" build --pull=never --format docker --target runtime \
    --build-context "build=$CTX" \
    --build-context "$BASE_REF=container-image://$LOCAL_BASE" \
    --build-arg "KILN_VERSION=$version" --build-arg "KILN_REVISION=$revision" \
    -t "$IMAGE" -f Dockerfile "$REPO" >"$STATE/build.log" 2>&1; then
  tail -n 20 "$STATE/build.log" >&2
  if grep -qE 'Temporary failure resolving|Could not resolve|Failed to fetch|Unable to connect|Network is unreachable' "$STATE/build.log"; then
    skip "the build's RUN apt-get cannot reach the Debian mirror from inside the build container (log: $STATE/build.log)"
  fi
  echo "build-image: podman build failed (log: $STATE/build.log)" >&2
  exit 1
fi
T5=$(now)
# the previous build of this tag, if this one replaced it (kept while a container uses it)
new_id=$("${PODMAN[@]}" image inspect --format '{{.Id}}' "$IMAGE")
if [[ -n $old_id && $old_id != "$new_id" ]]; then
  "${PODMAN[@]}" rmi "$old_id" >/dev/null 2>&1 || true
fi
size=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
log "built $IMAGE ($((size / 1000000)) MB)"

secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
json_list() {
  local out='' s
  for s in "$@"; do s=${s//\\/\\\\}; out+="${out:+,}\"${s//\"/\\\"}\""; done
  printf '[%s]' "$out"
}
printf '{"image":"%s","podman":%s,"run":%s,"size":%s,"seconds":{"rootfs":%s,"import":%s,"probe":%s,"build":%s,"total":%s}}\n' \
  "$IMAGE" "$(json_list "${PODMAN[@]:1}")" "$(json_list "${run_flags[@]}")" "$size" \
  "$(secs "$T1" "$T2")" "$(secs "$T2" "$T3")" "$(secs "$T3" "$T4")" "$(secs "$T4" "$T5")" "$(secs "$T0" "$T5")"
