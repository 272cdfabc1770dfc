#!/bin/bash
# desc: programs run from directories named to be overlooked: "...", ". ", a name with a trailing space, a control character
# mitre: T1564.001, T1036.006
# expect: exec_from_odd_directory
source "$ATTACK_LIB"

for d in '...' '. ' 'lib ' $'\t'; do
	mkdir -p "$ATTACK_TMP/$d"
	cp /bin/true "$ATTACK_TMP/$d/x"
	"$ATTACK_TMP/$d/x"
done
cp /bin/true "$ATTACK_TMP/update "
"$ATTACK_TMP/update "
