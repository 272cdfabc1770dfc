#!/bin/bash
# desc: the set-gid bit put on a program (chmod g+s)
# mitre: T1548.001
# expect: setgid_bit_set
source "$ATTACK_LIB"

cp /bin/bash "$ATTACK_TMP/g"
chmod g+s "$ATTACK_TMP/g"
