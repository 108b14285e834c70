#!/bin/sh
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
# build-deb.sh - lay out and build ember_VERSION_ARCH.deb with dpkg-deb.
#
# Usage: build-deb.sh BINARY VERSION OUTDIR. No debhelper: the tree is small
# and fixed, and dpkg-deb, dpkg-shlibdeps and help2man are what a fresh
# Debian 12 needs (DEB_TEST in the Makefile). The package is native (no
# Debian revision). Prints the path of the .deb.
set -eu

bin=$1
version=$2
mkdir -p "$3"
outdir=$(cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
pkg=$here/..
arch=$(dpkg --print-architecture)
root=$outdir/ember_${version}_$arch
deb=$outdir/ember_${version}_$arch.deb

rm -rf "$root" "$deb"
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/lib/systemd/system" "$root/etc/ember" \
	"$root/usr/share/man/man8" "$root/usr/share/doc/ember"

# Stripped as Debian ships binaries; the frame pointers stay, symbols go.
install -m 0755 "$bin" "$root/usr/bin/ember"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$root/usr/bin/ember"
install -m 0644 "$pkg/systemd/ember.service" "$root/lib/systemd/system/ember.service"
install -m 0644 "$pkg/ember.yaml" "$root/etc/ember/ember.yaml"
echo /etc/ember/ember.yaml > "$root/DEBIAN/conffiles"

# Ember has no --version: help2man takes the package's.
help2man --no-info --section=8 --version-string="$version" --no-discard-stderr \
	--name="host-wide continuous CPU profiler" "$root/usr/bin/ember" |
	gzip -9n > "$root/usr/share/man/man8/ember.8.gz"

# SOURCE_DATE_EPOCH keeps the changelog (and so the .deb) reproducible.
date=$(date -R -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}")
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date/" "$here/changelog" |
	gzip -9n > "$root/usr/share/doc/ember/changelog.gz"
install -m 0644 "$here/copyright" "$root/usr/share/doc/ember/copyright"

for s in postinst prerm postrm; do
	install -m 0755 "$here/$s" "$root/DEBIAN/$s"
done

# The library packages the binary links, from their shlibs/symbols files.
# dpkg-shlibdeps wants a debian/control to stand in.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/debian"
printf 'Source: ember\n\nPackage: ember\nArchitecture: any\n' > "$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O "$root/usr/bin/ember" 2>/dev/null |
	sed -n 's/^shlibs:Depends=//p')
[ -n "$depends" ] || { echo "build-deb: dpkg-shlibdeps found no dependencies" >&2; exit 1; }

size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
sed -e "s/@VERSION@/$version/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	-e "s/@DEPENDS@/$depends/" "$here/control.in" > "$root/DEBIAN/control"
(cd "$root" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z |
	xargs -0 md5sum) > "$root/DEBIAN/md5sums"

dpkg-deb --root-owner-group --build "$root" "$deb" >/dev/null
echo "$deb"
