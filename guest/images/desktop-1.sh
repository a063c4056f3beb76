# Recipe of the image desktop:1, sourced by guest/build-rootfs: a desktop for computer use. XFCE on a TigerVNC X
# server (display :0, VNC on the guest's loopback only), noVNC through websockify on port 6080 (reached through the
# ingress with a per-link token), Chromium, and the X tools the computer-use API drives (xdotool, ImageMagick's
# import). The desktop starts on first use: `createos-desktop start` (guest/desktop/createos-desktop).
IMAGE=desktop:1
SUITE=bookworm
DESKTOP=true
RECIPE_FILES=(desktop/createos-desktop)
DESCRIPTION="Debian 12 desktop for computer use: XFCE, Chromium, noVNC (port 6080 through the ingress), xdotool; Python 3, curl, git"
PACKAGES=(
    bash coreutils util-linux procps psmisc less file tar gzip xz-utils ca-certificates curl wget netbase iproute2
    git jq nano sudo python3 python3-pip e2fsprogs
    xfce4-session xfwm4 xfce4-panel xfdesktop4 xfce4-terminal xfce4-settings dbus-x11 at-spi2-core
    tigervnc-standalone-server novnc python3-websockify
    chromium xdotool wmctrl x11-utils x11-xserver-utils xclip imagemagick xdg-utils
    fonts-dejavu-core
)

customize() {
    local root=$1
    install -D -m 0755 "$GUEST_DIR/desktop/createos-desktop" "$root/usr/local/bin/createos-desktop"
    # The desktop runs as root (the image's default user): Chromium needs --no-sandbox there, and has no GPU.
    install -D -m 0644 /dev/stdin "$root/etc/chromium.d/createos" <<'CHROMIUM'
export CHROMIUM_FLAGS="$CHROMIUM_FLAGS --no-sandbox --disable-gpu --no-first-run --password-store=basic"
CHROMIUM
}
