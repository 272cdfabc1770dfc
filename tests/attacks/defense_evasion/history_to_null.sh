#!/bin/bash
# desc: history files replaced by links to /dev/null: ln -sf over an existing file, rm then ln -s, for bash and zsh
# mitre: T1070.003, T1562.003
# expect: shell_history_linked_to_null
source "$ATTACK_LIB"

# The throwaway user's home: it goes away with the user.
as_user sh -c 'printf "ls\n" >>"$HOME/.bash_history"; printf "ls\n" >>"$HOME/.zsh_history"'
as_user ln -sf /dev/null "$ATTACK_HOME/.bash_history"
as_user sh -c 'rm -f "$HOME/.zsh_history" && ln -s /dev/null "$HOME/.zsh_history"'
as_user /usr/bin/python3 -c 'import os; os.symlink("/dev/null", os.path.expanduser("~/.python_history"))'
