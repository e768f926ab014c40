#!/bin/bash
# The store's files and the key file's place: a symbolic link in place of
# lock.mdb or data.mdb is refused and its target left alone; a key file
# inside the store directory, or in a directory others can write or that
# belongs to someone else, is refused with what to run; a full disk says
# so rather than "Input/output error".
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
F="$FLUENZR"
add() {
	printf 'Files-Pw-1\n' | "$F" "$@" account add --email "a$RANDOM@example.org" \
		--smtp-host smtp.example.org --password-stdin
}

# ---- symbolic links among the store's files ----
for f in lock.mdb data.mdb; do
	setup_home
	add >/dev/null || fail "add"
	printf 'precious\n' >"$T/target"
	chmod 600 "$T/target"
	cp "$STORE/$f" "$T/$f.saved"
	rm -f "$STORE/$f"
	[ $f = lock.mdb ] || cp "$T/$f.saved" "$T/target"
	sum=$(sha256sum <"$T/target")
	ln -s "$T/target" "$STORE/$f"
	"$F" account list >/dev/null 2>"$T/err"
	rc=$?
	check "$f is a symbolic link: refused with 77 ($rc)" test $rc -eq 77
	check "$f is a symbolic link: the message says so" grep -q "symbolic link" "$T/err"
	add >/dev/null 2>&1
	check "$f is a symbolic link: add refused too" test $? -eq 77
	check "$f is a symbolic link: its target is untouched" test "$(sha256sum <"$T/target")" = "$sum"
done

# ---- the key file inside the store directory ----
setup_home
export XDG_CONFIG_HOME="$XDG_DATA_HOME"
add >/dev/null 2>"$T/err"
rc=$?
check "config and data directories the same: refused with 77 ($rc)" test $rc -eq 77
check "  the message says the key file is inside the store" grep -q "inside the store directory" "$T/err"
check "  and no key file was made there" test ! -e "$XDG_DATA_HOME/fluenzr/store.key"
setup_home
add --key-file "$STORE/keys/store.key" >/dev/null 2>&1
check "--key-file under the store directory: refused" test $? -eq 77

# ---- the key file's directory ----
setup_home
add >/dev/null || fail "add"
KD=$(dirname "$KEYFILE")
chmod 770 "$KD"
"$F" store check >/dev/null 2>"$T/err"
rc=$?
check "key directory writable by its group: refused with 77 ($rc)" test $rc -eq 77
check "  with the chmod to run" grep -qF "chmod go-w '$KD'" "$T/err"
chmod 700 "$KD"
if [ "$(id -u)" = 0 ]; then
	chown nobody "$KD"
	"$F" store check >/dev/null 2>"$T/err"
	rc=$?
	check "key directory of another user: refused with 77 ($rc)" test $rc -eq 77
	check "  with the chown to run" grep -qF "chown 0 '$KD'" "$T/err"
	chown 0 "$KD"
fi
check "fixed: the store checks" sh -c '"$1" store check >/dev/null' _ "$F"

# ---- a full disk ----
setup_home
if [ "$(id -u)" != 0 ] || ! mkdir -p "$T/full" || ! mount -t tmpfs -o size=256k tmpfs "$T/full" 2>/dev/null; then
	skip_or_fail "a full file system needs root and a tmpfs mount"
fi
at_exit "umount '$T/full'"
chmod 700 "$T/full"
printf 'pw\n' | "$F" --store "$T/full/s" account add --email first@example.org \
	--smtp-host smtp.example.org --password-stdin >/dev/null || fail "add on the tmpfs"
# Filled up to one page: LMDB's write of the next commit falls short, which
# it reports as EIO.
dd if=/dev/zero of="$T/full/fill" bs=4k 2>/dev/null
truncate -s -4096 "$T/full/fill"
out=$(printf 'pw\n' | "$F" --store "$T/full/s" account add --email second@example.org \
	--smtp-host smtp.example.org --password-stdin 2>&1)
rc=$?
echo "# $out" >&2
check "full disk: add fails with 74 ($rc)" test $rc -eq 74
check "full disk: the message says No space left on device" grep -q "No space left on device" <<<"$out"
check "full disk: not Input/output error" bash -c '! grep -q "Input/output error" <<<"$1"' _ "$out"
rm -f "$T/full/fill"
check "space again: the store checks, with the first account only" sh -c '
"$1" --store "$2" store check | grep -q "(1 account)$"' _ "$F" "$T/full/s"
finish
