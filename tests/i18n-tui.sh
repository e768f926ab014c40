#!/bin/bash
# The console in French and Hindi at 80x24 and after resizes, in a real
# terminal, with the catalogs as `make install` leaves them: the account
# list, the form, a live test against the mail stack (a wrong password) and
# its troubleshooting panel. Each screen is captured in English first; on
# the translated one no message of the catalog that the English screen
# shows is left in English, no line is wider than the terminal (columns by
# wcwidth: Devanagari vowel signs and viramas take none) and nothing more
# is cut short with an ellipsis than in English.
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/i18n-lib.sh"
. "$top_srcdir/tests/tuilib.sh"
need "$PY"
i18n_setup
tui_env
start_mailstack
add_alice_bob
# Sieve files this user's mail into Junk: a passed test with placement,
# findings and fixes.
add_account "$MAILSTACK_JUNK_USER" "$MAILSTACK_JUNK_PASS" --name Carol \
	--smtp-host 127.0.0.1 --smtp-port "$MAILSTACK_SMTP_STARTTLS_PORT" \
	--ca-file "$MAILSTACK_CA_FILE" \
	--imap-host 127.0.0.1 --imap-port "$MAILSTACK_IMAPS_PORT" --imap-security ssl
po_pairs fr >"$T/fr.pairs"
po_pairs hi >"$T/hi.pairs"

declare -A LOCALE=([en]=C.UTF-8 [fr]=fr_FR.UTF-8 [hi]=hi_IN.UTF-8)
declare -A T_LIST=([en]="Email Accounts" [fr]="Comptes e-mail" [hi]="ईमेल खाते")
declare -A T_DIAG=([en]="Live diagnostics" [fr]="Diagnostic en direct" [hi]="लाइव निदान")
declare -A T_TROUBLE=([en]="Troubleshooting" [fr]="Dépannage" [hi]="समस्या निवारण")
declare -A FAILED=([en]="Authentication failed" [fr]="Échec de l'authentification" [hi]="प्रमाणीकरण विफल")
declare -A FIX=([en]="[ ] Check the username" [fr]="[ ] Vérifiez le nom d'utilisateur" [hi]="[ ] पासवर्ड के केस की जांच करें")
declare -A WORKS=([en]="Everything works." [fr]="Tout fonctionne." [hi]="सब कुछ काम करता है।")
declare -A LABEL=([en]="Display name" [fr]="Nom affiché" [hi]="प्रदर्शित नाम")

# shot LANG NAME: the screen, saved as $T/LANG.NAME
shot() { screen >"$T/$1.$2"; }

# One pass of the console in a language; captures named by state.
pass() {
	local l=$1 s
	export LANG=${LOCALE[$l]} LC_ALL=${LOCALE[$l]}
	tui_start "$FLUENZR"
	wait_title "${T_LIST[$l]}"
	wait_screen "$MAILSTACK_BOB_USER"
	shot "$l" list
	keys a
	wait_title "${T_LIST[$l]} > + SMTP"
	wait_screen "${LABEL[$l]}"
	shot "$l" form
	keys Escape
	wait_title "${T_LIST[$l]}"
	keys t
	wait_title "${T_DIAG[$l]}"
	wait_screen "(auth_failed)" 30
	wait_screen "${FAILED[$l]}"
	shot "$l" diag
	keys f
	wait_title "${T_TROUBLE[$l]}"
	wait_screen "${FIX[$l]}"
	shot "$l" trouble
	tm resize-window -x 100 -y 30
	wait_for sh -c "tmux -u -L '$TUI_SOCK' capture-pane -p | tail -n 1 | grep -q '^.\{0,100\}$'"
	wait_screen "${FIX[$l]}"
	shot "$l" trouble100
	tm resize-window -x 80 -y 24
	wait_screen "${FIX[$l]}"
	shot "$l" trouble80
	keys Escape
	wait_title "${T_DIAG[$l]}"
	keys Escape
	wait_title "${T_LIST[$l]}"
	wait_screen "auth_failed"
	tm resize-window -x 100 -y 30
	wait_screen "Bob"
	sleep 0.2
	shot "$l" list100
	tm resize-window -x 80 -y 24
	wait_screen "Bob"
	sleep 0.2
	shot "$l" list80
	# The placement's lines and findings take more than 24 rows.
	tm resize-window -x 200 -y 70
	keys End t
	wait_title "${T_DIAG[$l]}"
	wait_screen "${WORKS[$l]}" 60
	shot "$l" place200
	keys Escape
	wait_title "${T_LIST[$l]}"
	tm resize-window -x 80 -y 24
	keys q
	check "$l: the console quits with status 0" [ "$(wait_exit)" = 0 ]
}

pass en
check "English: the hint bar" grep -qF "q quit  ? help" "$T/en.list"
for l in fr hi; do
	pass "$l"
	for st in list form diag trouble trouble100 trouble80 list100 list80 place200; do
		w=80
		case $st in *100) w=100;; *200) w=200;; esac
		check "$l $st: translated, nothing wider than $w columns, nothing cut" \
			env LC_ALL=${LOCALE[$l]} $PY - "$T/$l.pairs" "$T/en.$st" "$T/$l.$st" "$w" \
			"$MAILSTACK_ALICE_USER" "$MAILSTACK_BOB_USER" "$MAILSTACK_JUNK_USER" "$T" "fluenzr test" "mail.test" <<'PY'
import ctypes, locale, re, sys
locale.setlocale(locale.LC_ALL, "")
libc = ctypes.CDLL("libc.so.6")
def cols(s):
    return sum(max(0, libc.wcwidth(ctypes.c_wchar(c))) for c in s)
pairs, en_f, tr_f, width = sys.argv[1:5]
# the mail stack's names and addresses are data, whatever they say
data = sys.argv[5:]
def scrub(text):
    for d in sorted(data, key=len, reverse=True):
        text = text.replace(d, "<data>")
    return text
en, tr = scrub(open(en_f).read()), scrub(open(tr_f).read())
# A step's row: its name is stable, its detail is our sentence around the
# server's words. Only the name is set aside; the server's words are no
# message of the catalog, so they are not taken for English left over.
step = re.compile(r"^( \S+ +)(?:smtp|imap)\.[a-z_0-9]+(?= )", re.M)
en_msgs, tr_msgs = step.sub(r"\1<step>", en), step.sub(r"\1<step>", tr)
bad = []
spec = re.compile(r"%(?:[0-9]+\$)?[-+ #0]*[0-9*]*(?:\.[0-9*]+)?(?:hh|h|ll|l|z|j|t)?[a-zA-Z]")
for line in open(pairs, encoding="utf-8"):
    mid, mstr = line.rstrip("\n").split("\t", 1)
    if mid == mstr:
        continue
    frags = spec.split(mid)
    for frag in frags:
        frag = frag.strip(" .:;,()[]<>/-")
        # a word between format directives may well be the server's
        if len(frags) > 1 and " " not in frag:
            continue
        if len(frag) < 4 or not re.search(r"[A-Za-z]{3}", frag) or frag in mstr:
            continue
        pat = re.compile(r"(?<![A-Za-z_])" + re.escape(frag) + r"(?![A-Za-z_])")
        if pat.search(en_msgs) and pat.search(tr_msgs):
            bad.append("left in English: %r (msgid %r)" % (frag, mid))
for n, l in enumerate(tr.splitlines(), 1):
    if cols(l) > int(width):
        bad.append("line %d is %d columns wide: %r" % (n, cols(l), l))
e1, e2 = en.count("\u2026"), tr.count("\u2026")
if e2 > e1:
    bad.append("%d ellipses where English has %d" % (e2, e1))
for b in sorted(set(bad)):
    print(b, file=sys.stderr)
if bad:
    print("--- English:\n" + en + "--- translated:\n" + tr + "---", file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	done
done
check "French: the page's words in the form" sh -c \
	"grep -qF 'Nom d'\\''utilisateur' '$T/fr.form' && grep -qF 'Mot de passe' '$T/fr.form' && grep -qF 'Chiffrement' '$T/fr.form' && grep -qF 'Serveur SMTP' '$T/fr.form'"
check "Hindi: the page's words in the form" sh -c \
	"grep -qF 'उपयोगकर्ता नाम' '$T/hi.form' && grep -qF 'पासवर्ड' '$T/hi.form' && grep -qF 'एन्क्रिप्शन' '$T/hi.form'"
check "French: the page's fix for a failed login" grep -qF "mot de passe d'application" "$T/fr.trouble"
check "Hindi: the page's fix for a failed login" grep -qF "ऐप पासवर्ड का उपयोग करें" "$T/hi.trouble"
check "French: where the test email landed, and its fixes" sh -c \
	"grep -qF 'Placement : l'\''e-mail de test est arrivé dans les indésirables (Junk)' '$T/fr.place200' && grep -qF -- '- Ouvrez l'\''e-mail de test dans Junk et marquez-le comme non spam' '$T/fr.place200'"
check "Hindi: where the test email landed, and its fixes" sh -c \
	"grep -qF 'के बाद जंक (Junk) में पहुँचा' '$T/hi.place200' && grep -qF -- '- Junk में परीक्षण ईमेल खोलें' '$T/hi.place200'"
check "the wrong password is never on screen" sh -c "! grep -qF 'Not-Alice-Password' '$T'/*.list '$T'/*.trouble"
finish
