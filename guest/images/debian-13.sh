# Recipe of the image debian:13, sourced by guest/build-rootfs: a small Debian 13 (trixie) for short jobs.
IMAGE=debian:13
SUITE=trixie
DESCRIPTION="Debian 13 (trixie) minimal: bash, coreutils, curl, ca-certificates, git, python3"
PACKAGES=(
    bash coreutils util-linux procps less tar gzip xz-utils zstd ca-certificates curl netbase iproute2
    iputils-ping git python3 e2fsprogs
)
customize() { :; }
