#!/bin/bash
# The console with a store it cannot unlock (its key file gone): the list
# still shows, but deleting an account is refused and data.mdb stays byte
# for byte the same.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/tuilib.sh"
tui_env
add_account "lena@example.com" "Lena-Pass-1" --smtp-host smtp.example.com
before=$(tree_hash "$STORE")
mv "$KEYFILE" "$T/aside.key"

tui_start "$FLUENZR"
wait_screen "lena@example.com"
keys d
wait_screen "Delete lena@example.com and its password?"
keys y
wait_screen "Could not delete lena@example.com: the store is locked"
keys q
check "the console exits" test -n "$(wait_exit)"
check "locked: the delete was refused, data.mdb unchanged" test "$(tree_hash "$STORE")" = "$before"
mv "$T/aside.key" "$KEYFILE"
check "the account is still there" sh -c '"$1" account show lena@example.com >/dev/null' _ "$FLUENZR"
finish
