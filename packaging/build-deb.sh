#!/usr/bin/env bash
# Builds out/streamforge_<version>_<arch>.deb with dpkg-deb, from a release build that links the
# Swift runtime statically (`make deb` calls this).
#
#   packaging/build-deb.sh [--no-build]
#
# --no-build packages the binaries already in the scratch path. Environment:
#   SWIFT                      swift executable (default: swift)
#   STREAMFORGE_SCRATCH_PATH   SwiftPM scratch path (default: .build-deb, apart from `make build`'s)
#   SOURCE_DATE_EPOCH          timestamps in the package (default: the last commit's time)
#   STREAMFORGE_MAINTAINER     "Name <address>" of whoever distributes the package: the control
#                              file's Maintainer, the trailer of the changelog's entries and the
#                              man pages' AUTHORS (default below, at a reserved domain)
#
# The version has one source, StreamForgeVersion.current in Sources/StreamForgeCore/Version.swift;
# the top entry of packaging/debian/changelog must carry it as its upstream version
# (0.1.0 → 0.1.0-N), and the built binaries must report it, or this script stops.
set -euo pipefail
cd "$(dirname "$0")/.."
root_dir=$PWD

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    *) echo "usage: $0 [--no-build]" >&2; exit 64 ;;
  esac
done

SWIFT=${SWIFT:-swift}
scratch=${STREAMFORGE_SCRATCH_PATH:-$root_dir/.build-deb}
pkg=streamforge
say() { echo "build-deb: $*"; }
die() { echo "build-deb: $*" >&2; exit 1; }

for tool in dpkg-deb dpkg-shlibdeps dpkg-parsechangelog readelf strip gzip; do
  command -v "$tool" >/dev/null || die "unable to find $tool (packages dpkg-dev, binutils)"
done

# --- Version -----------------------------------------------------------------------------------
upstream=$(sed -n 's/^ *public static let current = "\([^"]*\)".*/\1/p' Sources/StreamForgeCore/Version.swift)
[ -n "$upstream" ] || die "unable to read StreamForgeVersion.current from Sources/StreamForgeCore/Version.swift"
version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
[ "${version%-*}" = "$upstream" ] ||
  die "packaging/debian/changelog is at $version but the code says $upstream: add a changelog entry ($upstream-1)"
arch=$(dpkg --print-architecture)
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

# The one place the maintainer is set. The default's domain is reserved for documentation
# (example.org, RFC 2606): it belongs to nobody, and lintian accepts it, unlike localhost.
# Whoever distributes the package sets their own.
export STREAMFORGE_MAINTAINER=${STREAMFORGE_MAINTAINER:-StreamForge maintainers <maintainers@streamforge.example.org>}
maintainer_re='^[^<>]*[^<> ] <[^<>@ ]+@[^<>@ ]+\.[^<>@ ]+>$'
[[ $STREAMFORGE_MAINTAINER =~ $maintainer_re && $STREAMFORGE_MAINTAINER != *$'\n'* ]] ||
  die "STREAMFORGE_MAINTAINER is '$STREAMFORGE_MAINTAINER', not 'Name <user@host.domain>'"

# --- Release build -----------------------------------------------------------------------------
if [ "$build" = 1 ]; then
  say "swift build -c release --static-swift-stdlib (scratch path $scratch)"
  for product in streamforged streamforgectl; do
    "$SWIFT" build -c release --static-swift-stdlib --scratch-path "$scratch" --product "$product"
  done
fi
bin_dir=$("$SWIFT" build -c release --static-swift-stdlib --scratch-path "$scratch" --show-bin-path)
for b in streamforged streamforgectl; do
  [ -x "$bin_dir/$b" ] || die "unable to find $bin_dir/$b (run without --no-build)"
done

# The binaries must not need the Swift runtime's shared libraries: the package depends on
# Debian libraries only.
for b in streamforged streamforgectl; do
  if readelf -d "$bin_dir/$b" | grep -E 'NEEDED.*lib(swift|Foundation|dispatch|BlocksRuntime|_Foundation)' >&2; then
    die "$b links a Swift runtime library dynamically; build with --static-swift-stdlib"
  fi
done

# --- Staging tree ------------------------------------------------------------------------------
stage=$root_dir/out/deb-root
rm -rf "$stage"
mkdir -p "$stage/DEBIAN"
umask 022
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

install -D -m 0755 "$bin_dir/streamforged" "$stage/usr/bin/streamforged"
# One binary: started through this symlink, streamforged is streamforgectl (same commands as
# the separately built streamforgectl, from the StreamForgeControl module). Each binary carries
# the Swift runtime and Foundation with its ICU data (~34 MB, which Yams' regular expressions
# pull in), so a second copy would double the package.
ln -s streamforged "$stage/usr/bin/streamforgectl"
# Symbols out, as dh_strip would; the Swift metadata sections stay (strip keeps them).
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$stage/usr/bin/streamforged"

# The stripped binaries must still run and report the version the package claims.
for b in streamforged streamforgectl; do
  reported=$("$stage/usr/bin/$b" --version 2>/dev/null || true)
  if [ "$reported" != "$upstream" ]; then
    die "$b --version says '$reported', the package is $version"
  fi
  "$stage/usr/bin/$b" --help >/dev/null || die "the stripped $b does not run"
done

install -D -m 0644 systemd/streamforge.service "$stage/lib/systemd/system/streamforge.service"
# The example configuration. It may be edited to hold credentials: 0640, group streamforge is
# set by postinst (respecting dpkg-statoverride).
install -D -m 0640 etc/streamforge/config.json "$stage/etc/streamforge/config.json"
"$stage/usr/bin/streamforged" check-config "$stage/etc/streamforge/config.json" >/dev/null ||
  die "etc/streamforge/config.json does not validate"

doc=$stage/usr/share/doc/$pkg
install -D -m 0644 README.md "$doc/README.md"
install -D -m 0644 docs/configuration.md "$doc/configuration.md"
install -D -m 0644 docs/dsl.md "$doc/dsl.md"
install -D -m 0644 etc/streamforge/config.example.yaml "$doc/examples/config.example.yaml"
install -D -m 0644 packaging/debian/copyright "$doc/copyright"
# The changelog's trailer lines stand for the maintainer as "@MAINTAINER_NAME@ <@MAINTAINER_ADDRESS@>"
# (a form dpkg-parsechangelog reads without a warning); the package gets STREAMFORGE_MAINTAINER.
awk -v marker=' -- @MAINTAINER_NAME@ <@MAINTAINER_ADDRESS@>  ' '
  index($0, marker) == 1 { $0 = " -- " ENVIRON["STREAMFORGE_MAINTAINER"] "  " substr($0, length(marker) + 1) }
  { print }
' packaging/debian/changelog > "$work/changelog"
if grep -n '@MAINTAINER' "$work/changelog" >&2; then
  die "packaging/debian/changelog: a maintainer marker outside a trailer line ' -- @MAINTAINER_NAME@ <@MAINTAINER_ADDRESS@>  DATE'"
fi
gzip -9n -c "$work/changelog" > "$doc/changelog.Debian.gz"
install -D -m 0644 packaging/debian/lintian-overrides "$stage/usr/share/lintian/overrides/$pkg"
chmod 0644 "$doc/changelog.Debian.gz"

# Shell completions, generated by swift-argument-parser from the commands themselves.
for b in streamforged streamforgectl; do
  install -d "$stage/usr/share/bash-completion/completions" "$stage/usr/share/zsh/vendor-completions" \
             "$stage/usr/share/fish/vendor_completions.d"
  # bash-completion sources the file: no #! line.
  "$stage/usr/bin/$b" --generate-completion-script bash | sed '1{/^#!/d}' > "$stage/usr/share/bash-completion/completions/$b"
  "$stage/usr/bin/$b" --generate-completion-script zsh > "$stage/usr/share/zsh/vendor-completions/_$b"
  "$stage/usr/bin/$b" --generate-completion-script fish > "$stage/usr/share/fish/vendor_completions.d/$b.fish"
done

# Man pages: streamforged(8), streamforgectl(1), generated by packaging/man.sh from the
# argument parser's own description of the commands.
packaging/man.sh "$stage/usr/bin" "$stage/usr/share/man"

# --- Control files -----------------------------------------------------------------------------
# Depends computed from the binaries' real NEEDED entries, as dh_shlibdeps does.
mkdir -p "$work/debian"
printf 'Source: %s\n\nPackage: %s\nArchitecture: any\n' "$pkg" "$pkg" > "$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/streamforged" 2>/dev/null |
           sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || die "dpkg-shlibdeps found no dependencies"
say "Depends from dpkg-shlibdeps: $shlibs"

installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@INSTALLED_SIZE@/$installed_size/" \
    -e "s/@SHLIBS_DEPENDS@/$shlibs/" packaging/debian/control.in |
  awk '$0 == "Maintainer: @MAINTAINER@" { $0 = "Maintainer: " ENVIRON["STREAMFORGE_MAINTAINER"] } { print }' \
  > "$stage/DEBIAN/control"
if grep -n '@[A-Z_]*@' "$stage/DEBIAN/control" >&2; then die "packaging/debian/control.in: a marker left unreplaced"; fi
echo /etc/streamforge/config.json > "$stage/DEBIAN/conffiles"

# Maintainer scripts: #DEBHELPER# is replaced by our systemd snippet, as debhelper would.
for script in postinst prerm postrm; do
  awk -v snippet="packaging/debian/snippets/$script" '
    /^#DEBHELPER#$/ { while ((getline line < snippet) > 0) print line; next } { print }
  ' "packaging/debian/$script" > "$stage/DEBIAN/$script"
  chmod 0755 "$stage/DEBIAN/$script"
  sh -n "$stage/DEBIAN/$script" || die "DEBIAN/$script is not valid sh"
done

(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -print0 | LC_ALL=C sort -z |
   xargs -0 md5sum | sed 's|  \./|  |' > DEBIAN/md5sums)
chmod 0644 "$stage/DEBIAN/md5sums" "$stage/DEBIAN/control" "$stage/DEBIAN/conffiles"
find "$stage" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

mkdir -p out
deb=out/${pkg}_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
say "built $deb ($(du -h "$deb" | cut -f1))"
