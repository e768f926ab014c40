# The program's catalogs where `make install` puts them, and the locales
# of the tests: sourced after tests/lib.sh. The calling script runs again
# inside a private mount namespace in which $(localedir) -- the directory
# compiled into the binary -- holds what `make install` (into a DESTDIR)
# installed: the uninstalled binary finds its catalogs at the very path an
# installed one uses, with no variable pointing it elsewhere, and nothing
# outside the namespace changes. The locales are generated into $T and
# shown in /usr/lib/locale the same way.
[ "$(id -u)" = 0 ] || skip_or_fail "the mount namespace needs root"
need unshare mount localedef msgfmt
[ -n "${localedir:-}" ] || fail "localedir is not set (run through make check)"
[ -f /usr/share/i18n/locales/hi_IN ] || skip_or_fail "the locales package is not installed"
unshare --mount true 2>/dev/null || skip_or_fail "unshare --mount does not work here"
if [ -z "${I18N_IN_NS:-}" ]; then
	I18N_IN_NS=1 exec unshare --mount -- bash "$0" "$@"
fi

# show_at DIR SRC: DIR (made if missing) shows the files of SRC over what
# it holds, through an overlay -- its upper layer on a tmpfs of the
# namespace -- on the nearest existing directory at or above DIR.
_ov=0
show_at() {
	local dir=$1 src=$2 a
	a=$dir
	while [ ! -d "$a" ]; do a=$(dirname "$a"); done
	if [ "$_ov" = 0 ]; then
		mkdir -p "$T/ov"
		mount -t tmpfs i18n "$T/ov" || fail "cannot mount a tmpfs"
		at_exit "umount -l '$T/ov'"
	fi
	_ov=$((_ov + 1))
	mkdir "$T/ov/up$_ov" "$T/ov/work$_ov"
	mount -t overlay i18n -o "lowerdir=$a,upperdir=$T/ov/up$_ov,workdir=$T/ov/work$_ov" "$a" ||
		fail "cannot mount an overlay on $a"
	at_exit "umount -l '$a'"
	mkdir -p "$dir" && cp -R "$src/." "$dir/" || fail "cannot copy $src to $dir"
}

# i18n_setup: the catalogs installed and shown at $localedir; the locales
# hi_IN, fr_FR and de_DE (no catalog: English) generated and shown where
# glibc looks for them (LOCPATH is not used: glibc's setlocale leaks its
# copy of it, which the sanitizer build reports). Sets T.
i18n_setup() {
	local l
	setup_home
	make -s -C "$top_builddir/po" install DESTDIR="$T/inst" >"$T/install.log" 2>&1 ||
		{ cat "$T/install.log" >&2; fail "make install of the catalogs"; }
	for l in fr hi; do
		[ -s "$T/inst$localedir/$l/LC_MESSAGES/fluenzr-tui.mo" ] ||
			fail "make install put no $l catalog in $localedir"
	done
	grep -qaF "$localedir" "$FLUENZR" || fail "the binary does not look in $localedir"
	show_at "$localedir" "$T/inst$localedir"
	mkdir -p "$T/locales"
	for l in hi_IN fr_FR de_DE; do
		localedef -i "$l" -f UTF-8 "$T/locales/$l.UTF-8" >"$T/localedef.log" 2>&1 ||
			{ cat "$T/localedef.log" >&2; fail "localedef $l"; }
	done
	show_at /usr/lib/locale "$T/locales"
	unset LANGUAGE LC_ALL LC_MESSAGES LOCPATH
}

# po_pairs LANG: the catalog's translated messages, one per line as
# "msgid<TAB>msgstr", for the screens' "nothing left in English" checks.
po_pairs() {
	$PY - "$top_srcdir/po/$1.po" <<'PY'
import re, sys
def unq(parts):
    return bytes("".join(parts), "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
ents, cur, key = [], None, None
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    m = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d+\])?) "(.*)"$', line)
    if m:
        if m.group(1) == "msgid":
            cur = {}; ents.append(cur)
        key = m.group(1); cur.setdefault(key, []).append(m.group(2)); continue
    m = re.match(r'^"(.*)"$', line)
    if m and cur is not None:
        cur[key].append(m.group(1))
for e in ents:
    mid = unq(e["msgid"])
    if not mid: continue
    strs = [unq(v) for k, v in e.items() if k.startswith("msgstr")]
    ids = [mid] + ([unq(e["msgid_plural"])] if "msgid_plural" in e else [])
    for i in ids:
        for s in strs:
            print(i.replace("\n", " ") + "\t" + s.replace("\n", " "))
PY
}
