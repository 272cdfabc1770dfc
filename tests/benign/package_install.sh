#!/bin/bash
# desc: a local package installed and purged with dpkg: a program, a cron job, a systemd unit, a profile.d script, a setuid helper, a maintainer script that runs on install
source "$ATTACK_LIB"

pkg=tb-pkg-$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
root=$ATTACK_TMP/$pkg
mkdir -p "$root/DEBIAN" "$root/usr/bin" "$root/etc/cron.d" "$root/lib/systemd/system" \
  "$root/etc/profile.d" "$root/usr/lib/$pkg"
cat >"$root/DEBIAN/control" <<CTL
Package: $pkg
Version: 1.0
Architecture: all
Maintainer: tapio tests <tests@localhost>
Description: benign corpus package
CTL
cat >"$root/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
chmod 4755 /usr/lib/PKG/helper
ldconfig
SH
sed -i "s/PKG/$pkg/" "$root/DEBIAN/postinst"
chmod 755 "$root/DEBIAN/postinst"
printf '#!/bin/sh\necho hello\n' >"$root/usr/bin/$pkg"
cp /bin/true "$root/usr/lib/$pkg/helper"
chmod 755 "$root/usr/bin/$pkg"
printf '0 4 * * * root /usr/bin/%s\n' "$pkg" >"$root/etc/cron.d/$pkg"
printf '[Service]\nExecStart=/usr/bin/%s\n' "$pkg" >"$root/lib/systemd/system/$pkg.service"
printf 'export TAPIO_BENIGN=1\n' >"$root/etc/profile.d/$pkg.sh"
dpkg-deb --build --root-owner-group "$root" "$ATTACK_TMP/$pkg.deb" >/dev/null

undo "dpkg --purge $pkg >/dev/null 2>&1 || true"
dpkg -i "$ATTACK_TMP/$pkg.deb" >/dev/null
"/usr/bin/$pkg" >/dev/null
dpkg --purge "$pkg" >/dev/null
