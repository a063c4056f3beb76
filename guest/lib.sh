# Helpers shared by the guest kit scripts (sourced, not executed).
# Every step is cached under the data directory by a hash of its recipe: the script text plus its inputs.

GUEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

log() { printf '[guest] %s\n' "$*" >&2; }
die() { printf '[guest] error: %s\n' "$*" >&2; exit 1; }

# run CMD...: runs CMD quietly; on failure names the command, its exit code and its output (stderr included).
run() {
    local err rc=0
    err=$(mktemp)
    "$@" >"$err" 2>&1 || rc=$?
    if ((rc != 0)); then
        printf '[guest] error: command failed (exit %d): %s\n' "$rc" "${*@Q}" >&2
        tail -n 60 "$err" | sed 's/^/[guest]   | /' >&2
        rm -f "$err"
        exit "$rc"
    fi
    rm -f "$err"
}

# run_logged LOG CMD...: like run, but keeps stdout and stderr of a long command in LOG and shows its last
# line once a minute, so a long build visibly makes progress.
run_logged() {
    local logfile=$1 rc=0 pid ticks=0
    shift
    "$@" >"$logfile" 2>&1 &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if ((++ticks % 60 == 0)); then log "  ... $(tail -n 1 "$logfile" | cut -c1-120)"; fi
    done
    wait "$pid" || rc=$?
    if ((rc != 0)); then
        printf '[guest] error: command failed (exit %d): %s\n' "$rc" "${*@Q}" >&2
        printf '[guest]   (full output in %s)\n' "$logfile" >&2
        tail -n 60 "$logfile" | sed 's/^/[guest]   | /' >&2
        exit "$rc"
    fi
}

# recipe_hash FILE... -- STRING...: 16 hex digits of sha256 over the files' contents and the strings.
recipe_hash() {
    local f
    {
        while (($#)) && [[ $1 != -- ]]; do
            [[ -f $1 ]] || die "recipe input $1 does not exist"
            printf 'file %s %s\n' "$(basename "$1")" "$(sha256sum <"$1" | cut -d' ' -f1)"
            shift
        done
        (($#)) && shift
        for f in "$@"; do printf 'input %s\n' "$f"; done
    } | sha256sum | cut -c1-16
}

# apt_refresh_once: apt-get update, at most once per build (stale package lists name files the mirror dropped).
# Returns 1 when the lists were already refreshed.
apt_refresh_once() {
    [[ -z ${CREATEOS_APT_REFRESHED:-} ]] || return 1
    export CREATEOS_APT_REFRESHED=1
    log "refreshing apt package lists"
    run apt-get update -q
}

# apt_show PKG: apt's record of the candidate version of PKG (empty when apt does not know it).
# apt-cache takes a second per call where its binary cache is disabled (Debian's container images), so records
# are kept in APT_MEMO_DIR (when set) for as long as the package lists and sources stay the same.
apt_show() {
    local lists memo
    if [[ -z ${APT_MEMO_DIR:-} ]]; then
        apt-cache show --no-all-versions "$1" 2>/dev/null || true
        return
    fi
    lists=$(stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* /etc/apt/sources.list* /etc/apt/sources.list.d/* \
        2>/dev/null | sha256sum | cut -c1-16)
    memo=$APT_MEMO_DIR/$lists/$1
    if [[ ! -s $memo ]]; then
        find "$APT_MEMO_DIR" -mindepth 1 -maxdepth 1 ! -name "$lists" -exec rm -rf {} + 2>/dev/null || true
        mkdir -p "$APT_MEMO_DIR/$lists"
        apt-cache show --no-all-versions "$1" 2>/dev/null >"$memo.tmp" || true
        mv "$memo.tmp" "$memo"
    fi
    cat "$memo"
}

# deb_candidate PKG: sets CANDIDATE=(name version sha256) of the version apt would install.
deb_candidate() {
    local record
    record=$(apt_show "$1")
    if [[ -z $record ]] && apt_refresh_once; then record=$(apt_show "$1"); fi
    [[ -n $record ]] || die "apt does not know the package $1 (is a Debian bookworm mirror in /etc/apt/sources.list*?)"
    read -r -a CANDIDATE < <(awk '/^Package:/{p=$2} /^Version:/{v=$2} /^SHA256:/{s=$2} END{print p, v, s}' <<<"$record")
    ((${#CANDIDATE[@]} == 3)) || die "apt-cache show $1 has no Package/Version/SHA256"
}

# deb_fetch NAME VERSION SHA256 DIR: downloads exactly that .deb into DIR and verifies it; sets FETCHED_DEB.
# Returns 1 (after showing apt's error) when the mirror does not serve that version: the caller refreshes the
# package lists and resolves again.
deb_fetch() {
    local name=$1 version=$2 sha=$3 dir=$4 rc=0
    # As root into a directory the _apt user cannot write: run unsandboxed instead of warning about it.
    (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$name=$version" >/dev/null 2>"$dir/apt.err") || rc=$?
    if ((rc != 0)); then
        printf '[guest] command failed (exit %d): apt-get download %s=%s\n' "$rc" "$name" "$version" >&2
        sed 's/^/[guest]   | /' "$dir/apt.err" >&2
        return 1
    fi
    rm -f "$dir/apt.err"
    FETCHED_DEB=$(find "$dir" -maxdepth 1 -name "${name}_*.deb" | head -n 1)
    [[ -n $FETCHED_DEB ]] || die "apt-get download $name=$version left no .deb in $dir"
    [[ $(sha256sum <"$FETCHED_DEB" | cut -d' ' -f1) == "$sha" ]] || die "$FETCHED_DEB does not have the sha256 apt announced ($sha)"
}

# publish TMP FINAL: atomically moves a finished build into place (same filesystem, FINAL must not exist).
publish() {
    run mv -T "$1" "$2"
}

# Timestamp given to every file the kit builds (initramfs entries, rootfs files), so builds are reproducible.
KIT_EPOCH=1735689600 # 2025-01-01T00:00:00Z
