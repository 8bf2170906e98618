#!/usr/bin/env bash
# Writes the man pages streamforged(8) and streamforgectl(1), gzipped, from the commands' own
# description (`--experimental-dump-help`), with swift-argument-parser's generate-manual tool:
# every option and subcommand in the page is one the parser really accepts. What the parser
# does not know (exit statuses, signals, environment, files) comes from packaging/man/*.extra,
# which replaces the generic EXIT STATUS section; the hidden `worker` subcommand is left out.
#
#   packaging/man.sh BIN_DIR MAN_DIR
#
# generate-manual is built from the swift-argument-parser checkout that SwiftPM already resolved
# into the scratch path (no network). STREAMFORGE_SCRATCH_PATH and STREAMFORGE_MAINTAINER (the
# AUTHORS section; build-deb.sh sets it) as in build-deb.sh.
#
# generate-manual escapes only the first line of a multi-line help text: a later line that starts
# with ' or . would be read as a request, and an empty line is not a paragraph break in mdoc. The
# pages are mended here, in the generated text lines only (packaging/man/*.extra is mdoc already):
# an empty line becomes .Pp, a run of indented lines (an example, a table) a literal display, and
# a line starting with ' or . (other than a macro line, `.Xx ...`) gets the zero-width \&. If
# `man` is installed, a page groff warns about stops the build (lintian's groff-message).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: $0 BIN_DIR MAN_DIR" >&2; exit 64; }
bin_dir=$1 man_dir=$2
scratch=${STREAMFORGE_SCRATCH_PATH:-$PWD/.build-deb}
SWIFT=${SWIFT:-swift}
[ -n "${STREAMFORGE_MAINTAINER:-}" ] ||
  { echo "man: STREAMFORGE_MAINTAINER is not set (\"Name <address>\"; build-deb.sh sets it)" >&2; exit 64; }
# generate-manual reads --authors as name<address>.
authors=${STREAMFORGE_MAINTAINER/ </<}

parser_checkout=$scratch/checkouts/swift-argument-parser
[ -f "$parser_checkout/Tools/generate-manual/GenerateManual.swift" ] ||
  { echo "man: unable to find swift-argument-parser's generate-manual in $parser_checkout" >&2; exit 1; }
"$SWIFT" build --package-path "$parser_checkout" --scratch-path "$scratch/tools" --product generate-manual >/dev/null
tool=$("$SWIFT" build --package-path "$parser_checkout" --scratch-path "$scratch/tools" --show-bin-path)/generate-manual

date=$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for spec in streamforged:8 streamforgectl:1; do
  name=${spec%:*} section=${spec#*:}
  "$tool" "$bin_dir/$name" --section "$section" --date "$date" \
    --authors "$authors" --output-directory "$work"
  page=$work/$name.$section
  [ -s "$page" ] || { echo "man: generate-manual wrote no $name.$section" >&2; exit 1; }
  extra=packaging/man/$name.$section.extra
  grep -q '^\.Sh "EXIT STATUS"$' "$page" || { echo "man: $name.$section has no EXIT STATUS section to replace" >&2; exit 1; }
  awk -v extra="$extra" -v apostrophe="'" '
    function end_display() { if (display) { print ".Ed"; display = 0 } }
    skip && /^\.El$/ { skip = 0; next }          # end of the hidden subcommand options
    skip { next }
    /^\.It Em worker$/ { skip = 1; next }        # the hidden `worker` subcommand
    /^\.Sh "EXIT STATUS"$/ {
      end_display(); para = 0
      while ((getline line < extra) > 0) print line
      drop_ex = 1; next
    }
    drop_ex && /^\.Ex -std$/ { drop_ex = 0; next }
    /^\.\\"/ { print; next }                    # a comment
    # A macro line: a paragraph break just before one is dropped (the macro sets its own spacing).
    /^\.[A-Z][a-z][a-z]?( |$)/ { end_display(); para = 0; print; next }
    # Text lines from the help strings.
    /^$/ { end_display(); para = 1; next }
    /^[ \t]/ {
      if (!display) { print (para ? ".Bd -literal" : ".Bd -literal -compact"); display = 1 }
      para = 0; print; next
    }
    {
      end_display()
      if (para) { print ".Pp"; para = 0 }
      first = substr($0, 1, 1)
      if (first == "." || first == apostrophe) $0 = "\\&" $0
      print
    }
    END { end_display() }
  ' "$page" > "$page.final"
  if command -v man >/dev/null; then
    # As lintian runs it.
    if ! warnings=$(cd "$work" && env -i PATH="$PATH" LC_ALL=C.UTF-8 MANROFFSEQ= MANWIDTH=120 \
                      man --warnings -E UTF-8 -l -Tutf8 -Z "$page.final" 2>&1 >/dev/null) ||
       [ -n "$warnings" ]; then
      echo "man: groff warns about $name.$section:" >&2; echo "$warnings" >&2; exit 1
    fi
  fi
  install -d "$man_dir/man$section"
  gzip -9n -c "$page.final" > "$man_dir/man$section/$name.$section.gz"
  chmod 0644 "$man_dir/man$section/$name.$section.gz"
done
