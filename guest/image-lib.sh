# Steps an image recipe's customize() may call (sourced by build-rootfs after lib.sh). Each works on the image's
# root directory from the host side: nothing the image contains is executed except its own Node.js, which
# installs npm packages into it (the host's Node.js, if any, plays no part).

# npm_pack SPEC DIR: downloads the npm package SPEC (name@version) into DIR (cached in $NPM_CACHE) and prints
# the tarball's path.
npm_pack() {
    local spec=$1 dir=$2 out
    out=$(cd "$dir" && npm pack --silent --cache "$NPM_CACHE" "$spec" 2>"$dir/npm.err") || {
        printf '[guest] error: command failed: npm pack %s\n' "$spec" >&2
        sed 's/^/[guest]   | /' "$dir/npm.err" >&2
        exit 1
    }
    printf '%s/%s\n' "$dir" "$(tail -n 1 <<<"$out")"
}

# install_node ROOT NODE_SPEC NPM_SPEC: Node.js's binary, headers (node-gyp) and npm under ROOT/usr/local.
install_node() {
    local root=$1 tmp tarball
    tmp=$(mktemp -d)
    tarball=$(npm_pack "$2" "$tmp")
    run tar -xzf "$tarball" -C "$tmp"
    install -D -m 0755 "$tmp/package/bin/node" "$root/usr/local/bin/node"
    mkdir -p "$root/usr/local/include"
    cp -a "$tmp/package/include/node" "$root/usr/local/include/"
    tarball=$(npm_pack "$3" "$tmp")
    mkdir -p "$root/usr/local/lib/node_modules/npm"
    run tar -xzf "$tarball" -C "$root/usr/local/lib/node_modules/npm" --strip-components=1
    ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
    ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
    rm -rf "$tmp"
}

# install_bun ROOT SPEC: Bun's binary as ROOT/usr/local/bin/bun (+ bunx, the same binary under another name).
install_bun() {
    local root=$1 tmp tarball
    tmp=$(mktemp -d)
    tarball=$(npm_pack "$2" "$tmp")
    run tar -xzf "$tarball" -C "$tmp"
    install -D -m 0755 "$tmp/package/bin/bun" "$root/usr/local/bin/bun"
    ln -sfn bun "$root/usr/local/bin/bunx"
    rm -rf "$tmp"
}

# npm_install_global ROOT SPEC...: `npm install -g` into ROOT/usr/local with the image's own Node.js and npm.
# Install scripts are not run (the CLIs ship their platform binaries as optional dependencies).
npm_install_global() {
    local root=$1
    shift
    run env HOME="$NPM_CACHE/home" "$root/usr/local/bin/node" "$root/usr/local/lib/node_modules/npm/bin/npm-cli.js" \
        install --global --prefix "$root/usr/local" --cache "$NPM_CACHE" --ignore-scripts --no-fund --no-audit \
        --no-update-notifier "$@"
}

# without_host_keys ROOT: every sandbox must have its own SSH host keys, so the image carries none; whoever
# starts sshd runs `ssh-keygen -A` first (see guest/README.md).
without_host_keys() {
    rm -f "$1"/etc/ssh/ssh_host_*
}
