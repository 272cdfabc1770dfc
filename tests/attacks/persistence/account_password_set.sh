#!/bin/bash
# desc: passwords set and locked by root without asking anyone: chpasswd from a pipe, usermod -p with a ready hash, passwd -l
# mitre: T1098
# expect: account_password_changed*3
source "$ATTACK_LIB"

# The throwaway user goes away with the run, its password with it.
echo "$ATTACK_USER:$(tmpname)" | chpasswd
usermod -p "$(openssl passwd -6 "$(tmpname)")" "$ATTACK_USER"
passwd -l "$ATTACK_USER" >/dev/null
