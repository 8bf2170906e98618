#!/usr/bin/env bash
# Package test (STYLE "Tests" 4): builds the .deb, inspects it, installs it on this machine with
# dpkg, runs the installed binaries, then purges it and checks that nothing is left.
#
#   scripts/test-deb.sh [--no-build]     (as root; --no-build: package the existing release build)
#
# STREAMFORGE_DEB=path tests that package instead of building one. Safe to run again: a
# streamforge package already installed is refused rather than overwritten (purge it first),
# and whatever this script installed is purged on exit, also on failure.
set -euo pipefail
cd "$(dirname "$0")/.."

pass=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
fail() { echo "FAIL - $*" >&2; exit 1; }
say() { echo "== $*"; }

[ "$(id -u)" -eq 0 ] || fail "run as root: it installs and purges the package with dpkg"
if dpkg-query -W -f='${Status}' streamforge 2>/dev/null | grep -qv "not-installed"; then
  fail "a streamforge package is already on this machine ($(dpkg-query -W -f='${Version} ${Status}' streamforge)); purge it first: dpkg --purge streamforge"
fi

deb=${STREAMFORGE_DEB:-}
if [ -z "$deb" ]; then
  packaging/build-deb.sh "$@"
  version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
  deb=out/streamforge_${version}_$(dpkg --print-architecture).deb
fi
[ -f "$deb" ] || fail "no package at $deb"

installed=0
cleanup() {
  if [ "$installed" = 1 ]; then dpkg --purge streamforge >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT

say "inspecting $deb"
info=$(dpkg-deb -I "$deb")
contents=$(dpkg-deb -c "$deb")
echo "$info" | sed -n '/^ Package:/,/^ Description:/p'
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = streamforge ] || fail "Package is $(field Package)"
depends=$(field Depends)
for d in librdkafka1 libsystemd0 libc6 adduser procps; do
  echo "$depends" | grep -Eq "(^|, )$d( |,|$)" || fail "Depends lacks $d: $depends"
done
echo "$depends" | grep -qi swift && fail "Depends names a Swift library: $depends"
ok "Depends: $depends"

for f in ./usr/bin/streamforged ./usr/bin/streamforgectl ./lib/systemd/system/streamforge.service \
         ./etc/streamforge/config.json ./usr/share/doc/streamforge/README.md \
         ./usr/share/doc/streamforge/configuration.md ./usr/share/doc/streamforge/dsl.md \
         ./usr/share/doc/streamforge/copyright ./usr/share/doc/streamforge/changelog.Debian.gz \
         ./usr/share/man/man8/streamforged.8.gz ./usr/share/man/man1/streamforgectl.1.gz \
         ./usr/share/bash-completion/completions/streamforgectl \
         ./usr/share/zsh/vendor-completions/_streamforgectl; do
  echo "$contents" | awk '{print $6}' | grep -qx "$f" || fail "the package lacks $f"
done
echo "$contents" | awk '{print $6}' | grep -q devbroker && fail "the package ships the devbroker"
echo "$contents" | awk '$6 == "./usr/bin/streamforgectl" {print $1, $7, $8}' | grep -qx -- "lrwxrwxrwx -> streamforged" ||
  fail "/usr/bin/streamforgectl is not the symlink to streamforged"
ok "one binary, streamforgectl a symlink to it; Installed-Size: $(dpkg-deb -f "$deb" Installed-Size) KiB"
echo "$contents" | awk '$6 == "./etc/streamforge/config.json" {print $1, $2}' | grep -qx -- "-rw-r----- root/root" ||
  fail "config.json is not -rw-r----- root/root in the package"
ok "contents: binaries, unit, conffile, docs, man pages, completions; no devbroker"

tmp=$(mktemp -d)
trap 'cleanup; rm -rf "$tmp"' EXIT
dpkg-deb --ctrl-tarfile "$deb" | tar -x -C "$tmp"
[ "$(cat "$tmp/conffiles")" = /etc/streamforge/config.json ] || fail "conffiles: $(cat "$tmp/conffiles")"
for s in postinst prerm postrm; do
  sed -n 2,4p "$tmp/$s" | grep -qx "set -e" || fail "$s does not start with set -e"
  grep -q "#DEBHELPER#" "$tmp/$s" && fail "$s still holds the #DEBHELPER# marker"
done
ok "conffiles and maintainer scripts"

# lintian: an error (E:) fails the test; warnings are printed for a reader to judge (the ones
# the package accepts are overridden, with the reason, in packaging/debian/lintian-overrides).
# lintian advises against running as root: it runs as the user nobody when it can, on a copy
# of the package in a directory open to that user.
command -v lintian >/dev/null || fail "lintian is not installed (scripts/deps.sh installs it)"
say "lintian $(lintian --print-version)"
as_nobody=()
if runuser -u nobody -- true 2>/dev/null; then as_nobody=(runuser -u nobody --); fi
mkdir -p "$tmp/lintian"
chmod 0755 "$tmp" "$tmp/lintian"
install -m 0644 "$deb" "$tmp/lintian/"
set +e
"${as_nobody[@]}" lintian --fail-on error --tag-display-limit 0 "$tmp/lintian/$(basename "$deb")"
rc=$?
set -e
case "$rc" in
  0) ok "lintian: no errors" ;;
  2) fail "lintian reports errors (E: above)" ;;
  *) fail "lintian did not run (exit $rc)" ;;
esac

say "installing with dpkg -i"
if ! dpkg -i "$deb"; then
  installed=1
  DEBIAN_FRONTEND=noninteractive apt-get install -f -y -q
fi
installed=1
dpkg-query -W -f='${Status}\n' streamforge | grep -qx "install ok installed" || fail "streamforge is not installed"
ok "installed $(dpkg-query -W -f='${Version}' streamforge)"

out=$(/usr/bin/streamforged check-config /etc/streamforge/config.json) || fail "check-config exited $?: $out"
ok "streamforged check-config /etc/streamforge/config.json: $out"
/usr/bin/streamforgectl --help | grep -q "USAGE: streamforgectl" || fail "streamforgectl --help"
ok "streamforgectl --help"
bash -c '. /usr/share/bash-completion/completions/streamforgectl && complete -p streamforgectl' | grep -q -- "-F" ||
  fail "the bash completion does not register for streamforgectl"
ok "bash completion registers: $(bash -c '. /usr/share/bash-completion/completions/streamforgectl && complete -p streamforgectl')"
set +e; /usr/bin/streamforgectl --socket /nonexistent/control.sock status >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 69 ] || fail "streamforgectl status without a daemon exited $rc, not 69"
ok "streamforgectl status without a daemon exits 69"
printf '{"appid": "x", "bootstrap": "localhost:9092", "inptu": "a"}\n' > "$tmp/bad.json"
set +e; /usr/bin/streamforged check-config "$tmp/bad.json" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" -eq 78 ] || fail "check-config of a bad file exited $rc, not 78"
ok "check-config of a bad file exits 78"
man -w streamforged >/dev/null 2>&1 || [ ! -x /usr/bin/man ] || fail "man cannot find streamforged(8)"
zcat /usr/share/man/man8/streamforged.8.gz | grep -q '^\.Dt STREAMFORGED 8' || fail "streamforged.8 is not an mdoc page of section 8"

getent passwd streamforge | grep -q ':/var/lib/streamforge:/usr/sbin/nologin$' || fail "no streamforge system user: $(getent passwd streamforge)"
getent group streamforge >/dev/null || fail "no streamforge group"
ok "user: $(getent passwd streamforge)"
[ "$(stat -c '%U:%G %a' /etc/streamforge/config.json)" = "root:streamforge 640" ] ||
  fail "config.json is $(stat -c '%U:%G %a' /etc/streamforge/config.json)"
[ "$(stat -c '%U:%G %a' /var/lib/streamforge)" = "streamforge:streamforge 750" ] ||
  fail "/var/lib/streamforge is $(stat -c '%U:%G %a' /var/lib/streamforge)"
dpkg-query --showformat='${Conffiles}\n' --show streamforge | grep -q "/etc/streamforge/config.json" ||
  fail "config.json is not registered as a conffile"
ok "conffile /etc/streamforge/config.json root:streamforge 640; /var/lib/streamforge streamforge:streamforge 750"
# Enabled through deb-systemd-helper (a wants/ link), even without a running systemd.
[ -L /etc/systemd/system/multi-user.target.wants/streamforge.service ] || fail "the unit is not enabled"
ok "unit enabled (multi-user.target.wants)"

say "a local change to the conffile survives a reinstall"
echo '{"appid": "edited", "bootstrap": "localhost:9092", "input": "a", "output": "b"}' > /etc/streamforge/config.json
dpkg -i --force-confold "$deb" >/dev/null
grep -q '"edited"' /etc/streamforge/config.json || fail "the reinstall overwrote the edited conffile"
ok "reinstall kept the edited config.json"

say "dpkg -r keeps the configuration, dpkg --purge removes everything"
dpkg -r streamforge >/dev/null
[ -f /etc/streamforge/config.json ] || fail "remove deleted the conffile"
[ ! -e /usr/bin/streamforged ] || fail "remove left /usr/bin/streamforged"
dpkg --purge streamforge >/dev/null
installed=0
for p in /usr/bin/streamforged /usr/bin/streamforgectl /lib/systemd/system/streamforge.service \
         /etc/streamforge /var/lib/streamforge /usr/share/doc/streamforge \
         /etc/systemd/system/multi-user.target.wants/streamforge.service /etc/systemd/system/streamforge.service \
         /var/lib/systemd/deb-systemd-helper-enabled/streamforge.service.dsh-also \
         /var/lib/systemd/deb-systemd-helper-masked/streamforge.service; do
  [ ! -e "$p" ] && [ ! -L "$p" ] || fail "purge left $p"
done
getent passwd streamforge >/dev/null && fail "purge left the streamforge user"
getent group streamforge >/dev/null && fail "purge left the streamforge group"
dpkg-query -W streamforge >/dev/null 2>&1 && fail "dpkg still knows streamforge"
ok "purged: no files, no user, no group, no unit state left"

echo "test-deb: $pass checks passed"
